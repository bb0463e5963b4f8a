# One image for Holvi's services (api, worker, migrations, tools) and the Expenzy simulator.
# docker-compose.yml chooses the command of each service; the default is the Holvi API.
# TypeScript runs through tsx, as locally: there is no build step.
FROM node:20-slim

WORKDIR /app
# devDependencies included: tsx runs the services. @temporalio/core-bridge ships prebuilt
# binaries for linux glibc x64/arm64, which this Debian-based image is.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force

COPY . .

USER node
EXPOSE 5001 5002 5003
CMD ["node", "--import", "tsx", "src/api/server.ts"]
