// A self-contained API reference page rendered from the OpenAPI document (no CDN, works offline).

type OpenApiDocument = { info: { title: string; version: string; description?: string }; paths: Record<string, Record<string, Operation>> };
type Operation = { summary?: string; description?: string; tags?: string[]; parameters?: { name: string; in: string; required?: boolean; schema?: unknown; description?: string }[]; requestBody?: { content: Record<string, { schema: unknown }> }; responses: Record<string, { description: string }> };

const escape = (text: string) => text.replace(/[&<>"]/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[char]!);

export function renderDocs(document: OpenApiDocument): string {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ path, method, operation })));
  const sections = operations.map(({ path, method, operation }) => {
    const parameters = (operation.parameters ?? []).map((parameter) => `<li><code>${escape(parameter.name)}</code> (${parameter.in}${parameter.required ? ', required' : ''})${parameter.description ? ` — ${escape(parameter.description)}` : ''}</li>`).join('');
    const body = operation.requestBody ? Object.entries(operation.requestBody.content).map(([type, { schema }]) => `<p>Body <code>${type}</code></p><pre>${escape(JSON.stringify(schema, null, 2))}</pre>`).join('') : '';
    const responses = Object.entries(operation.responses).map(([status, response]) => `<li><code>${status}</code> ${escape(response.description)}</li>`).join('');
    return `<section id="${method}-${escape(path)}"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escape(path)}</code></h3>
      <p>${escape(operation.summary ?? '')}</p>${operation.description ? `<p>${escape(operation.description)}</p>` : ''}
      ${parameters ? `<p>Parameters</p><ul>${parameters}</ul>` : ''}${body}<p>Responses</p><ul>${responses}</ul></section>`;
  });
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(document.info.title)} API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#222}section{border-top:1px solid #ddd;padding:.5rem 0}
pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:12px}.m{display:inline-block;min-width:4.5em;font-size:12px;padding:2px 6px;border-radius:4px;color:#fff;background:#555}
.get{background:#2b7}.post{background:#27b}.patch{background:#b72}.delete{background:#b33}</style></head><body>
<h1>${escape(document.info.title)} <small>${escape(document.info.version)}</small></h1><p>${escape(document.info.description ?? '')}</p>
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>${sections.join('\n')}</body></html>`;
}
