import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { HubContext } from '../context.js';
import { HubError, notFound } from '../errors.js';
import type { SourceFile } from '../ingest/contract.js';

// Files for file-based connectors live on disk under the data dir; the row keeps their hash and size.

interface FileRow {
  id: string;
  path: string;
  filename: string;
  sha256: string;
  size_bytes: number;
  created_at: Date;
}

const toSourceFile = (row: FileRow): SourceFile => ({ id: row.id, path: row.path, filename: row.filename, sha256: row.sha256, sizeBytes: Number(row.size_bytes) });

export function presentFile(file: SourceFile & { createdAt?: Date }) {
  return { id: file.id, filename: file.filename, size_bytes: file.sizeBytes, sha256: file.sha256 };
}

/** Streams an upload to disk, hashing as it goes; past the size limit it stops and answers 413. */
export async function saveUpload(context: HubContext, scope: { workspaceId: string; connectionId: string }, filename: string, body: Readable): Promise<SourceFile> {
  const id = crypto.randomUUID();
  const directory = path.join(context.config.dataDir, 'uploads', scope.workspaceId, scope.connectionId);
  fs.mkdirSync(directory, { recursive: true });
  const target = path.join(directory, `${id}${path.extname(filename).slice(0, 10)}`);
  const hash = crypto.createHash('sha256');
  const limit = context.config.HUB_UPLOAD_MAX_BYTES;
  let size = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > limit) return callback(new HubError('file_too_large', 413, `The file is larger than the ${formatBytes(limit)} limit (HUB_UPLOAD_MAX_BYTES).`, { limit_bytes: limit }));
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  // Opened synchronously: an asynchronous open could finish after the cleanup below and leave an empty file.
  const out = fs.createWriteStream(target, { fd: fs.openSync(target, 'wx') });
  try {
    await pipeline(body, meter, out);
  } catch (error) {
    fs.rmSync(target, { force: true });
    throw error;
  }
  if (size === 0) {
    fs.rmSync(target, { force: true });
    throw new HubError('empty_file', 400, 'The uploaded file is empty.');
  }
  return registerFile(context, scope, { path: target, filename, sha256: hash.digest('hex'), sizeBytes: size });
}

/** A file already on disk (e.g. `hub sync --file`): hashed in a stream, not copied. */
export async function registerLocalFile(context: HubContext, scope: { workspaceId: string; connectionId: string }, filePath: string): Promise<SourceFile> {
  const absolute = path.resolve(filePath);
  if (!fs.existsSync(absolute)) throw new HubError('file_not_found', 400, `No file at ${absolute}.`);
  const hash = crypto.createHash('sha256');
  await pipeline(fs.createReadStream(absolute), hash);
  return registerFile(context, scope, { path: absolute, filename: path.basename(absolute), sha256: hash.digest('hex'), sizeBytes: fs.statSync(absolute).size });
}

async function registerFile(context: HubContext, scope: { workspaceId: string; connectionId: string }, file: Omit<SourceFile, 'id'>): Promise<SourceFile> {
  const [row] = await context.sql<FileRow[]>`
    insert into hub.files (workspace_id, connection_id, filename, path, size_bytes, sha256)
    values (${scope.workspaceId}, ${scope.connectionId}, ${file.filename}, ${file.path}, ${file.sizeBytes}, ${file.sha256})
    returning *`;
  return toSourceFile(row);
}

export async function findFile(context: HubContext, connectionId: string, fileId?: string): Promise<SourceFile | undefined> {
  const [row] = fileId
    ? await context.sql<FileRow[]>`select * from hub.files where connection_id = ${connectionId} and id = ${fileId}`
    : await context.sql<FileRow[]>`select * from hub.files where connection_id = ${connectionId} order by created_at desc, id desc limit 1`;
  if (fileId && !row) throw notFound(`File ${fileId}`);
  return row ? toSourceFile(row) : undefined;
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / 1024 / 1024)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}
