import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultPorts } from '../config/ports.js';

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
  tools: ['tools/report/cli.ts', 'expenzy/producer-options.ts'],
};

/**
 * The files of the repository a command line runs. The image runs the build: dist/X.js is
 * compiled from X.ts (npm run build), so that source is what must exist.
 */
const scriptsOf = (command: string[]) =>
  command
    .filter((arg) => /\.([jt]s|sh)$/.test(arg))
    .map((arg) => arg.replace(/^dist\/(.*)\.js$/, '$1.ts').replace(/^\/scripts\//, 'docker/temporal/'));

/** A port mapping as [host address, host port, container port]. */
const publish = (mapping: string) => {
  const parts = mapping.split(':');
  return parts.length === 3 ? [parts[0]!, parts[1]!, parts[2]!] : ['0.0.0.0', parts[0]!, parts[1]!];
};

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

  it("publishes the local stack's ports (config/ports.json) and serves ours on the same inside", () => {
    const published = (name: string) => services[name]!.ports!.map((p) => publish(p).slice(1).map(Number));
    const { expenzy, api, workerMetrics, workerSdkMetrics, temporal, temporalUi } = defaultPorts;
    expect(published('expenzy')).toEqual([[expenzy, expenzy]]);
    expect(published('api')).toEqual([[api, api]]);
    expect(published('worker')).toEqual([[workerMetrics, workerMetrics]]);
    expect(published('temporal')).toEqual([[temporal, temporal]]);
    expect(published('temporal-ui')[0]![0]).toBe(temporalUi);
    const all = entries.flatMap(([, service]) => (service.ports ?? []).map((p) => Number(publish(p)[1])));
    expect(all.sort()).toEqual([expenzy, api, workerMetrics, temporal, temporalUi].sort());

    const env = (name: string) => services[name]!.environment!;
    expect(env('expenzy').EXPENZY_PORT).toBe(expenzy);
    expect(env('api').HOLVI_API_PORT).toBe(api);
    expect(env('worker').WORKER_METRICS_PORT).toBe(workerMetrics);
    expect(env('worker').WORKER_SDK_METRICS_PORT).toBe(workerSdkMetrics);
    expect(env('worker').EXPENZY_API_BASE_URL).toBe(`http://expenzy:${expenzy}`);
    for (const name of ['worker', 'api']) expect(env(name).TEMPORAL_ADDRESS).toBe(`temporal:${temporal}`);
    expect(env('tools').HOLVI_API_BASE_URL).toBe(`http://api:${api}`);
  });

  it('publishes on the loopback only, never on every interface', () => {
    for (const [name, service] of entries) {
      for (const mapping of service.ports ?? []) {
        expect(publish(mapping)[0], `${name}: ${mapping}`).toBe('127.0.0.1');
      }
    }
  });

  it('pins every image it pulls to a release (no latest, no bare major)', () => {
    for (const [name, service] of entries.filter(([, s]) => s.build === undefined)) {
      expect(service.image, name).toMatch(/^[\w./-]+:\d+\.\d+(\.\d+)?(-[\w.]+)?$/);
    }
  });

  it('uses the current Temporal images (server with a schema step), not the deprecated auto-setup', () => {
    const images = entries.map(([, service]) => service.image ?? '');
    expect(images.some((image) => image.includes('auto-setup'))).toBe(false);
    expect(services.temporal!.image).toMatch(/^temporalio\/server:/);
    expect(services['temporal-schema']!.image).toMatch(/^temporalio\/admin-tools:/);
    expect(services.temporal!.image!.split(':')[1]).toBe(services['temporal-schema']!.image!.split(':')[1]);
    expect(services.temporal!.depends_on?.['temporal-schema']?.condition).toBe(
      'service_completed_successfully',
    );
    for (const name of ['api', 'worker']) {
      expect(services[name]!.depends_on?.['temporal-namespace']?.condition).toBe(
        'service_completed_successfully',
      );
    }
  });

  it("keeps the simulator's admin routes off unless asked for", () => {
    expect(services.expenzy!.environment!.EXPENZY_ADMIN_ENABLED).toBe('${EXPENZY_ADMIN_ENABLED:-0}');
  });

  it('health-checks our services on the port they publish', () => {
    for (const [name, service] of ours.filter(([, s]) => s.ports)) {
      const containerPort = publish(service.ports![0]!)[2];
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
    for (const [name, service] of entries.filter(([, s]) => s.build !== undefined || s.command)) {
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
  const stages = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)];
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  it('builds on Node 24 LTS, pinned to a patch release, in stages', () => {
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(base).toMatch(/^node:24\.\d+\.\d+-\w+-slim$/);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const [, from] of stages) expect(from).toBe('${NODE_IMAGE}');
    expect(read('.nvmrc').trim()).toBe(base!.split(':')[1]!.split('.')[0]);
  });

  it('compiles in the build stage and ships production dependencies only', () => {
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^RUN npm ci --omit=dev\b/m);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(runtime).not.toMatch(/^COPY (src|tools|expenzy) /m);
  });

  it('runs as a non-root user, under an init process, with NODE_ENV=production', () => {
    const user = [...runtime.matchAll(/^USER (\S+)$/gm)].at(-1)?.[1];
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(runtime).toMatch(/^ENV NODE_ENV=production$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
  });

  it("exposes our services' ports (config/ports.json)", () => {
    const exposed = /^EXPOSE (.+)$/m.exec(runtime)?.[1]?.split(' ').map(Number);
    expect(exposed).toEqual([defaultPorts.expenzy, defaultPorts.api, defaultPorts.workerMetrics]);
  });

  it('runs an entrypoint that exists', () => {
    const cmd = /^CMD (\[.*\])$/m.exec(dockerfile);
    expect(cmd).not.toBeNull();
    const scripts = scriptsOf(JSON.parse(cmd![1]!) as string[]);
    expect(scripts).not.toHaveLength(0);
    for (const script of scripts) expect(existsSync(`${root}${script}`), script).toBe(true);
  });

  it('keeps in the build context what the build needs', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .filter((line) => line && !line.startsWith('#'));
    for (const needed of [
      'config',
      'src',
      'expenzy',
      'tools',
      'migrations',
      'docker',
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
    ]) {
      expect(ignored).not.toContain(needed);
    }
    expect(ignored).toContain('node_modules');
    expect(ignored).toContain('dist');
  });

  it('passes hadolint (installed by scripts/install-hadolint.sh)', () => {
    const hadolint = execFileSync('bash', [`${root}scripts/install-hadolint.sh`], {
      encoding: 'utf8',
    }).trim();
    // Throws, with hadolint's findings, on any finding (the default threshold: info).
    execFileSync(hadolint, ['--no-color', `${root}Dockerfile`], { encoding: 'utf8' });
  });
});
