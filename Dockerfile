FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev
COPY . .
RUN mkdir -p /data && chown node:node /data
ENV HUB_HOST=0.0.0.0 PORT=3000
EXPOSE 3000
USER node
CMD ["node", "bin/hub.js", "start"]
