import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// docker-compose.yml cannot be run here (no Docker engine in CI), so this checks what can go
// wrong without running it: references, healthchecks, ports, and that every variable it sets is
// one the code reads (a misspelt name would silently fall back to a default).

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string | number | boolean | null>;
  healthcheck?: { test?: string[] };
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  volumes?: string[];
  restart?: string;
}

const root = new URL('../', import.meta.url).pathname;
const read = (path: string) => readFileSync(`${root}${path}`, 'utf8');
const services: Record<string, Service> = parse(read('docker-compose.yml')).services;
const entries = Object.entries(services);
const ours = entries.filter(([, service]) => service.build !== undefined);
const oneShot = (service: Service) => service.restart === 'no';

/** Where each of our services reads its settings. A new service must say where its own are read. */
const settingsReadIn: Record<string, string[]> = {
  expenzy: ['expenzy/config.ts'],
  migrate: ['src/config.ts'],
  worker: ['src/config.ts'],
  api: ['src/config.ts'],
  tools: ['tools/report-cli.ts', 'expenzy/producer-options.ts'],
};

/** The files of the repository a command line runs. */
const scriptsOf = (command: string[]) => command.filter((arg) => /\.[jt]s$/.test(arg));

describe('docker-compose.yml', () => {
  it('gives every service an image or a build', () => {
    for (const [name, service] of entries) {
      expect(service.image ?? service.build, name).toBeDefined();
    }
  });

  it('gives every long-running service a healthcheck', () => {
    for (const [name, service] of entries.filter(([, s]) => !oneShot(s))) {
      expect(service.healthcheck?.test?.length, name).toBeGreaterThan(0);
    }
  });

  it('depends only on services that exist, with conditions they can meet', () => {
    for (const [name, service] of entries) {
      for (const [target, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(services[target], `${name} depends on ${target}`).toBeDefined();
        if (condition === 'service_healthy') expect(services[target]!.healthcheck, target).toBeDefined();
        if (condition === 'service_completed_successfully')
          expect(oneShot(services[target]!), target).toBe(true);
      }
    }
  });

  it('gives the owner role to the migrate step only: api and worker hold no owner credentials', () => {
    const owner = services.migrate!.environment!.HOLVI_MIGRATION_DATABASE_URL;
    expect(owner).toMatch(/holvi_owner/);
    for (const [name, service] of entries.filter(([n]) => n !== 'migrate')) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        expect(variable, `${name} sets ${variable}`).not.toBe('HOLVI_MIGRATION_DATABASE_URL');
        expect(String(value), `${name}: ${variable}`).not.toMatch(/holvi_owner/);
      }
    }
  });

  it('starts migrations before the api and the worker', () => {
    for (const name of ['api', 'worker']) {
      expect(services[name]!.depends_on?.migrate?.condition).toBe('service_completed_successfully');
    }
  });

  it('publishes exactly the ports of the local stack', () => {
    const published = entries.flatMap(([, service]) =>
      (service.ports ?? []).map((p) => Number(p.split(':')[0])),
    );
    expect(published.sort()).toEqual([5001, 5002, 5003, 7233, 8233]);
  });

  it('health-checks our services on the port they publish', () => {
    for (const [name, service] of ours.filter(([, s]) => s.ports)) {
      const containerPort = service.ports![0]!.split(':')[1];
      expect(service.healthcheck!.test!.join(' '), name).toContain(`127.0.0.1:${containerPort}/`);
    }
  });

  it('sets only variables the code reads', () => {
    for (const [name, service] of ours) {
      const sources = settingsReadIn[name];
      expect(sources, `where does ${name} read its settings?`).toBeDefined();
      const names = new Set(
        sources!.flatMap((source) => read(source).match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g) ?? []),
      );
      for (const variable of Object.keys(service.environment ?? {})) {
        expect(names.has(variable), `${name} sets ${variable}, which ${sources!.join(', ')} never read`).toBe(
          true,
        );
      }
    }
  });

  it('points every address at a service of the file', () => {
    for (const [name, service] of entries) {
      for (const [variable, value] of Object.entries(service.environment ?? {})) {
        const host = /^(?:[a-z]+:\/\/(?:[^@/]*@)?)?([a-z-]+):\d+/.exec(String(value))?.[1];
        if (host === undefined || !/(_URL|_ADDRESS)$/.test(variable)) continue;
        expect(services[host], `${name}: ${variable}=${value}`).toBeDefined();
      }
    }
  });

  it('runs entrypoints and healthchecks that exist', () => {
    for (const [name, service] of ours) {
      expect(service.command, name).toBeDefined();
      const scripts = [...scriptsOf(service.command!), ...scriptsOf(service.healthcheck?.test ?? [])];
      for (const script of scripts) expect(existsSync(`${root}${script}`), `${name}: ${script}`).toBe(true);
    }
  });

  it('creates the roles and databases scripts/postgres.sh creates', () => {
    const mount = services.postgres!.volumes!.find((v) => v.endsWith(':/docker-entrypoint-initdb.d:ro'));
    const initDir = mount!.split(':')[0]!.replace(/^\.\//, '');
    const initSql = read(`${initDir}/01-roles-and-databases.sql`);
    const local = read('scripts/postgres.sh');
    const roles = [...local.matchAll(/^\s*ensure_role (\w+)/gm)].map((m) => m[1]);
    const databases = [...local.matchAll(/^\s*ensure_db (\w+) (\w+)/gm)].map((m) => [m[1], m[2]]);
    expect(roles).toEqual(['holvi_owner', 'holvi_app', 'expenzy']);
    for (const role of roles) expect(initSql).toContain(`CREATE ROLE ${role} LOGIN PASSWORD '${role}'`);
    for (const [db, owner] of databases) expect(initSql).toContain(`CREATE DATABASE ${db} OWNER ${owner};`);
    expect(initSql).toContain(`CREATE ROLE ${services.temporal!.environment!.POSTGRES_USER} `);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('starts from node:20-slim and installs with npm ci', () => {
    expect(dockerfile).toMatch(/^FROM node:20-slim$/m);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
  });

  it('runs an entrypoint that exists', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
    expect(cmd).not.toBeNull();
    const scripts = scriptsOf(JSON.parse(cmd![1]!) as string[]);
    expect(scripts).not.toHaveLength(0);
    for (const script of scripts) expect(existsSync(`${root}${script}`), script).toBe(true);
  });

  it('keeps in the build context what the services need', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    for (const needed of ['src', 'expenzy', 'tools', 'migrations', 'package.json', 'package-lock.json']) {
      expect(ignored).not.toContain(needed);
    }
    expect(ignored).toContain('node_modules');
  });
});
