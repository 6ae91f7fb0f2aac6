import fs from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig, settings } from '@hub/shared/config';

// The deployment files are checked by reading them: no Docker engine or cluster is needed.
// The settings table in @hub/shared/config is the one list of what a hub container may be given.

const root = path.resolve(__dirname, '../..');
const read = (file: string): string => fs.readFileSync(path.join(root, file), 'utf8');
const exists = (file: string): boolean => fs.existsSync(path.join(root, file));

type Env = Record<string, string>;
const isSetting = (name: string): name is keyof typeof settings => name in settings;

/** What compose or Kubernetes would hand over, with each operator-supplied variable set to a stand-in. */
function interpolate(value: string): string {
  return value.replace(/\$\{(\w+)(?::?([-?])([^}]*))?\}/g, (_match, name: string, op?: string, fallback?: string) =>
    op === '-' ? (fallback ?? '') : `operator-${name.toLowerCase()}-stand-in-of-32-characters-or-more`,
  );
}

describe('infra/docker-compose.yml', () => {
  interface ComposeService {
    image?: string;
    build?: string | { context?: string; dockerfile?: string };
    command?: string | string[];
    environment?: Record<string, string | number | boolean | null> | string[];
    depends_on?: string[] | Record<string, { condition?: string }>;
    ports?: (string | { target: number; published?: string | number })[];
    healthcheck?: { test?: string | string[]; disable?: boolean };
    deploy?: { replicas?: number };
    restart?: string;
  }
  const compose = parse(read('infra/docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
  const services = compose.services;
  const hubServices = ['ingest', 'index', 'viewer-api'];

  function environmentOf(name: string): Env {
    const environment = services[name]?.environment ?? {};
    if (Array.isArray(environment)) {
      return Object.fromEntries(environment.map((entry) => [entry.split('=')[0]!, entry.slice(entry.indexOf('=') + 1)]));
    }
    return Object.fromEntries(Object.entries(environment).map(([key, value]) => [key, value === null ? '' : String(value)]));
  }

  function dependsOn(name: string): Record<string, string> {
    const deps = services[name]?.depends_on ?? {};
    if (Array.isArray(deps)) return Object.fromEntries(deps.map((dep) => [dep, 'service_started']));
    return Object.fromEntries(Object.entries(deps).map(([dep, spec]) => [dep, spec.condition ?? 'service_started']));
  }

  function published(name: string): Record<string, number> {
    const ports: Record<string, number> = {};
    for (const port of services[name]?.ports ?? []) {
      if (typeof port === 'string') {
        const parts = port.split(':');
        const target = parts.at(-1)!.split('/')[0]!;
        ports[parts.length > 1 ? parts.at(-2)! : target] = Number(target);
      } else {
        ports[String(port.published ?? port.target)] = port.target;
      }
    }
    return ports;
  }

  const ourImage = Object.keys(services).filter((name) => services[name]!.build !== undefined);

  it('builds ingest, index, viewer-api and the bucket bootstrap from infra/Dockerfile with the repository root as context', () => {
    expect(ourImage.sort()).toEqual(['bucket-bootstrap', 'index', 'ingest', 'viewer-api']);
    for (const name of ourImage) {
      const build = services[name]!.build as { context: string; dockerfile: string };
      expect({ name, context: path.resolve(root, 'infra', build.context) }).toEqual({ name, context: root });
      expect({ name, dockerfile: build.dockerfile }).toEqual({ name, dockerfile: 'infra/Dockerfile' });
    }
    // One image: every service names the same tag.
    expect(new Set(ourImage.map((name) => services[name]!.image)).size).toBe(1);
  });

  it('sets only variables that are hub settings on the containers built from our image', () => {
    const unknown = ourImage.flatMap((name) => Object.keys(environmentOf(name)).filter((key) => !isSetting(key)).map((key) => `${name}: ${key}`));
    expect(unknown).toEqual([]);
  });

  it('connects each hub service to the PostgreSQL and the bucket that compose starts', () => {
    const bootstrap = environmentOf('bucket-bootstrap');
    for (const name of hubServices) {
      const env = environmentOf(name);
      expect({ name, url: env.DATABASE_URL }).toEqual({ name, url: expect.stringMatching(/^postgres(ql)?:\/\/[^@]+@postgres:5432\/\w+$/) });
      expect({ name, bucket: env.S3_BUCKET }).toEqual({ name, bucket: bootstrap.S3_BUCKET });
      expect({ name, endpoint: env.S3_ENDPOINT }).toEqual({ name, endpoint: 'http://minio:9000' });
    }
    expect(bootstrap.S3_BUCKET).toBeTruthy();
  });

  it('takes HUB_TOKEN_SECRET and HUB_ID_HASH_SECRET from the operator and refuses to start without them', () => {
    for (const name of hubServices) {
      const env = environmentOf(name);
      expect({ name, value: env.HUB_TOKEN_SECRET }).toEqual({ name, value: expect.stringMatching(/^\$\{HUB_TOKEN_SECRET:\?[^}]+\}$/) });
      expect({ name, value: env.HUB_ID_HASH_SECRET }).toEqual({ name, value: expect.stringMatching(/^\$\{HUB_ID_HASH_SECRET:\?[^}]+\}$/) });
    }
  });

  it('writes no secret as a literal: every secret setting and store password is interpolated', () => {
    const literal = ourImage.flatMap((name) =>
      Object.entries(environmentOf(name))
        .filter(([key, value]) => isSetting(key) && 'secret' in settings[key] && !/\$\{\w+:\?[^}]*\}|\$\{\w+:-\}/.test(value))
        .map(([key]) => `${name}: ${key}`),
    );
    expect(literal).toEqual([]);
    expect(environmentOf('postgres').POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?[^}]+\}$/);
    expect(environmentOf('minio').MINIO_ROOT_PASSWORD).toMatch(/^\$\{MINIO_ROOT_PASSWORD:\?[^}]+\}$/);
  });

  it('gives each container an environment the hub config accepts: external PostgreSQL and S3 for services, S3 for the bootstrap', () => {
    for (const name of ourImage) {
      const env = Object.fromEntries(Object.entries(environmentOf(name)).map(([key, value]) => [key, interpolate(value)]));
      const config = loadConfig(env, root);
      expect({ name, blob: config.blob.driver }).toEqual({ name, blob: 's3' });
      if (hubServices.includes(name)) expect({ name, database: config.database.mode }).toEqual({ name, database: 'external' });
    }
  });

  it('starts the hub services only after PostgreSQL and MinIO are healthy and the bucket bootstrap has succeeded', () => {
    for (const name of hubServices) {
      expect({ name, dependsOn: dependsOn(name) }).toEqual({
        name,
        dependsOn: { postgres: 'service_healthy', minio: 'service_healthy', 'bucket-bootstrap': 'service_completed_successfully' },
      });
    }
    expect(dependsOn('bucket-bootstrap')).toEqual({ minio: 'service_healthy' });
    // A one-shot job: restarting it would make "completed successfully" never final.
    expect(services['bucket-bootstrap']!.restart).toBe('no');
  });

  it('health-checks every service others wait on: pg_isready for PostgreSQL, mc ready for MinIO', () => {
    const waitedOn = new Set(Object.keys(services).flatMap((name) => Object.entries(dependsOn(name)).filter(([, c]) => c === 'service_healthy').map(([dep]) => dep)));
    for (const name of waitedOn) {
      const healthcheck = services[name]!.healthcheck;
      expect({ name, test: healthcheck?.disable ? undefined : healthcheck?.test }).toEqual({ name, test: expect.anything() });
    }
    expect(services.postgres!.image).toBe('postgres:15');
    expect(String(services.postgres!.healthcheck!.test)).toMatch(/pg_isready/);
    expect(String(services.minio!.command)).toMatch(/server \/data --console-address :9001/);
    expect(services.minio!.healthcheck!.test).toEqual(['CMD', 'mc', 'ready', 'local']);
  });

  it('runs each service\'s own entry point from the one image', () => {
    const entry = (name: string): string => {
      const command = services[name]!.command;
      return (Array.isArray(command) ? command : String(command).split(' ')).join(' ');
    };
    for (const name of hubServices) {
      expect(entry(name)).toBe(`node --import tsx services/${name}/src/main.ts`);
      expect(exists(`services/${name}/package.json`)).toBe(true);
    }
    expect(entry('bucket-bootstrap')).toBe('node --import tsx infra/bootstrap/create-bucket.ts');
    expect(exists('infra/bootstrap/create-bucket.ts')).toBe(true);
  });

  it('publishes viewer-api on 8080 and ingest\'s HTTP intake on 8081, DICOM on 11112 and MLLP on 2575', () => {
    expect(published('viewer-api')).toEqual({ 8080: 8080 });
    expect(published('ingest')).toEqual({ 8081: 8080, 11112: 11112, 2575: 2575 });
    expect(environmentOf('ingest').DICOM_PORT ?? settings.DICOM_PORT.default).toBe('11112');
    expect(environmentOf('ingest').MLLP_PORT ?? settings.MLLP_PORT.default).toBe('2575');
    expect(services.index!.deploy?.replicas).toBe(2);
    expect(services.index!.ports).toBeUndefined();
  });
});

describe('infra/k8s', () => {
  interface Probe {
    httpGet?: { path?: string; port?: string | number };
  }
  interface Container {
    name: string;
    image: string;
    command?: string[];
    args?: string[];
    env?: { name: string; value?: string; valueFrom?: { configMapKeyRef?: { name: string; key: string }; secretKeyRef?: { name: string; key: string } } }[];
    envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
    ports?: { name?: string; containerPort: number }[];
    livenessProbe?: Probe;
    readinessProbe?: Probe;
    startupProbe?: Probe;
    resources?: { requests?: { cpu?: string; memory?: string }; limits?: { cpu?: string; memory?: string } };
  }
  interface K8sObject {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels?: Record<string, string> };
    data?: Record<string, string>;
    stringData?: Record<string, string>;
    spec?: {
      replicas?: number;
      type?: string;
      externalTrafficPolicy?: string;
      selector?: Record<string, string> & { matchLabels?: Record<string, string> };
      ports?: { name?: string; port: number; targetPort?: string | number }[];
      template?: { metadata?: { labels?: Record<string, string> }; spec: { containers: Container[] } };
      scaleTargetRef?: { kind: string; name: string };
      minReplicas?: number;
      maxReplicas?: number;
    };
  }

  const dir = 'infra/k8s';
  const files = fs.readdirSync(path.join(root, dir)).filter((file) => /\.ya?ml$/.test(file)).sort();
  const parsed = files.map((file) => ({ file, documents: [...parseAllDocuments(read(`${dir}/${file}`), { merge: true })] }));
  const objects = parsed
    .filter(({ file }) => file !== 'kustomization.yaml')
    .flatMap(({ file, documents }) => documents.map((doc) => ({ file, object: doc.toJS() as K8sObject })));
  const ofKind = (kind: string): K8sObject[] => objects.filter(({ object }) => object.kind === kind).map(({ object }) => object);

  const configMap = ofKind('ConfigMap').find((o) => o.metadata.name === 'hub-config')!;
  const secret = ofKind('Secret').find((o) => o.metadata.name === 'hub-secrets')!;
  const workloads = [...ofKind('Deployment'), ...ofKind('Job')];
  const hubContainers = workloads.flatMap((workload) =>
    workload.spec!.template!.spec.containers.filter((c) => c.image.includes('/regional-results-hub:')).map((container) => ({ workload, container })),
  );
  const deployments = ofKind('Deployment');
  const cores = (cpu = '0'): number => (cpu.endsWith('m') ? Number(cpu.slice(0, -1)) / 1000 : Number(cpu));
  const mebibytes = (memory = '0'): number => (memory.endsWith('Gi') ? Number(memory.slice(0, -2)) * 1024 : Number(memory.replace(/Mi$/, '')));

  it('parses every manifest as YAML, each document one named Kubernetes object', () => {
    expect(files.length).toBeGreaterThan(0);
    for (const { file, documents } of parsed) {
      for (const doc of documents) {
        expect({ file, errors: doc.errors.map((e) => e.message), warnings: doc.warnings.map((w) => w.message) }).toEqual({ file, errors: [], warnings: [] });
      }
    }
    for (const { file, object } of objects) {
      expect({ file, apiVersion: object.apiVersion, kind: object.kind, name: object.metadata?.name }).toEqual({
        file,
        apiVersion: expect.any(String),
        kind: expect.any(String),
        name: expect.any(String),
      });
    }
  });

  it('applies every manifest with kustomize except the Secret example, which holds placeholders only', () => {
    const kustomization = parse(read(`${dir}/kustomization.yaml`)) as { resources: string[] };
    expect([...kustomization.resources].sort()).toEqual(files.filter((f) => f !== 'kustomization.yaml' && f !== 'secret.example.yaml'));
    for (const [key, value] of Object.entries(secret.stringData ?? {})) {
      expect({ key, value }).toEqual({ key, value: expect.stringContaining('REPLACE_FROM_SECRET_STORE') });
    }
  });

  it('gives hub containers only known settings, whether set directly, from the ConfigMap or from the Secret', () => {
    expect(Object.keys(configMap.data ?? {}).filter((key) => !isSetting(key))).toEqual([]);
    expect(Object.keys(secret.stringData ?? {}).filter((key) => !isSetting(key))).toEqual([]);
    expect(hubContainers.length).toBeGreaterThan(0);
    for (const { workload, container } of hubContainers) {
      const where = `${workload.kind}/${workload.metadata.name}`;
      expect({ where, unknown: (container.env ?? []).map((e) => e.name).filter((name) => !isSetting(name)) }).toEqual({ where, unknown: [] });
      for (const source of container.envFrom ?? []) {
        if (source.configMapRef) expect({ where, configMap: source.configMapRef.name }).toEqual({ where, configMap: configMap.metadata.name });
        if (source.secretRef) expect({ where, secret: source.secretRef.name }).toEqual({ where, secret: secret.metadata.name });
      }
      for (const { name, valueFrom } of container.env ?? []) {
        if (valueFrom?.configMapKeyRef) expect({ where, name, key: valueFrom.configMapKeyRef.key in (configMap.data ?? {}) }).toEqual({ where, name, key: true });
        if (valueFrom?.secretKeyRef) expect({ where, name, key: valueFrom.secretKeyRef.key in (secret.stringData ?? {}) }).toEqual({ where, name, key: true });
      }
    }
  });

  it('makes, from the ConfigMap and the Secret, a configuration the hub accepts: external PostgreSQL and S3', () => {
    const config = loadConfig({ ...configMap.data, ...secret.stringData }, root);
    expect(config.database.mode).toBe('external');
    expect(config.blob.driver).toBe('s3');
  });

  it('probes /healthz for liveness and startup and /readyz for readiness, on the container\'s HTTP port', () => {
    const services = hubContainers.filter(({ workload }) => workload.kind === 'Deployment');
    expect(services.map(({ workload }) => workload.metadata.name).sort()).toEqual(['index', 'ingest', 'viewer-api']);
    for (const { workload, container } of services) {
      const where = workload.metadata.name;
      const http = container.ports?.find((p) => p.containerPort === Number(settings.HTTP_PORT.default));
      const port = (probe?: Probe): string | number | undefined => probe?.httpGet?.port;
      expect({ where, liveness: container.livenessProbe?.httpGet?.path, readiness: container.readinessProbe?.httpGet?.path, startup: container.startupProbe?.httpGet?.path ?? '/healthz' }).toEqual({
        where,
        liveness: '/healthz',
        readiness: '/readyz',
        startup: '/healthz',
      });
      for (const probe of [container.livenessProbe, container.readinessProbe, container.startupProbe].filter(Boolean)) {
        expect({ where, onHttpPort: [http?.name, http?.containerPort].includes(port(probe)) }).toEqual({ where, onHttpPort: true });
      }
    }
  });

  it('runs each service\'s entry point as args, so the image\'s init stays PID 1', () => {
    for (const { workload, container } of hubContainers) {
      const entry = workload.kind === 'Job' ? 'infra/bootstrap/create-bucket.ts' : `services/${workload.metadata.name}/src/main.ts`;
      expect({ name: workload.metadata.name, command: container.command, last: container.args?.at(-1) }).toEqual({ name: workload.metadata.name, command: undefined, last: entry });
    }
  });

  it('routes each Service to a Deployment\'s pods and to ports those pods declare', () => {
    for (const service of ofKind('Service')) {
      const selector = service.spec!.selector!;
      const target = deployments.find((d) => Object.entries(selector).every(([k, v]) => d.spec!.template!.metadata?.labels?.[k] === v));
      expect({ service: service.metadata.name, selects: target?.metadata.name }).toEqual({ service: service.metadata.name, selects: expect.any(String) });
      const declared = target!.spec!.template!.spec.containers.flatMap((c) => c.ports ?? []);
      for (const port of service.spec!.ports!) {
        const found = declared.some((p) => p.name === port.targetPort || p.containerPort === (port.targetPort ?? port.port));
        expect({ service: service.metadata.name, port: port.port, found }).toEqual({ service: service.metadata.name, port: port.port, found: true });
      }
    }
  });

  it('exposes DIMSE and MLLP through an L4 LoadBalancer or NodePort that keeps the sender\'s address', () => {
    const tcp = ofKind('Service').filter((s) => s.spec!.ports!.some((p) => p.port === 11112 || p.port === 2575));
    const ports = tcp.flatMap((s) => s.spec!.ports!.map((p) => p.port)).sort((a, b) => a - b);
    expect(ports).toEqual([2575, 11112]);
    for (const service of tcp) {
      expect(['LoadBalancer', 'NodePort']).toContain(service.spec!.type);
      // Senders are bound to their organization by source address.
      expect(service.spec!.externalTrafficPolicy).toBe('Local');
    }
  });

  it('runs index and viewer-api with 2 replicas, viewer-api under a HorizontalPodAutoscaler', () => {
    const replicas = (name: string): number | undefined => deployments.find((d) => d.metadata.name === name)?.spec?.replicas;
    expect(replicas('index')).toBe(2);
    expect(replicas('viewer-api')).toBe(2);
    const hpa = ofKind('HorizontalPodAutoscaler').find((h) => h.spec!.scaleTargetRef!.name === 'viewer-api');
    expect(hpa?.spec).toMatchObject({ scaleTargetRef: { kind: 'Deployment' }, minReplicas: 2 });
    expect(hpa!.spec!.maxReplicas!).toBeGreaterThan(2);
  });

  it('fits the hub at its minimum replica counts on one 2-core, 4 GiB node, with requests and limits on every container', () => {
    let cpu = 0;
    let memory = 0;
    for (const { workload, container } of hubContainers) {
      const { requests, limits } = container.resources ?? {};
      expect({ name: workload.metadata.name, requests: [requests?.cpu, requests?.memory], limits: [limits?.cpu, limits?.memory] }).toEqual({
        name: workload.metadata.name,
        requests: [expect.any(String), expect.any(String)],
        limits: [expect.any(String), expect.any(String)],
      });
      expect(cores(limits!.cpu)).toBeGreaterThanOrEqual(cores(requests!.cpu));
      if (workload.kind === 'Deployment') {
        cpu += cores(requests!.cpu) * (workload.spec!.replicas ?? 1);
        memory += mebibytes(requests!.memory) * (workload.spec!.replicas ?? 1);
      }
    }
    // Leaves about 0.4 core and 1 GiB for the kubelet, the system and the ingress controller.
    expect(cpu).toBeLessThanOrEqual(1.6);
    expect(memory).toBeLessThanOrEqual(3 * 1024);
  });
});

describe('infra/Dockerfile', () => {
  const dockerfile = read('infra/Dockerfile');
  /** Instructions, with continuation lines joined and comments dropped. */
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  const finalStage = instructions.slice(instructions.map((line) => line.startsWith('FROM ')).lastIndexOf(true));
  const ignorePatterns = read('infra/Dockerfile.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));

  /** .dockerignore semantics: the last pattern matching the path or a folder above it decides. */
  function ignored(file: string): boolean {
    let excluded = false;
    for (const raw of ignorePatterns) {
      const negated = raw.startsWith('!');
      const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
      let source = '';
      for (let i = 0; i < pattern.length; i++) {
        if (pattern.startsWith('**/', i)) (source += '(?:.*/)?'), (i += 2);
        else if (pattern.startsWith('**', i)) (source += '.*'), (i += 1);
        else if (pattern[i] === '*') source += '[^/]*';
        else if (pattern[i] === '?') source += '[^/]';
        else source += pattern[i]!.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      const matcher = new RegExp(`^${source}$`);
      const segments = file.split('/');
      if (segments.some((_, i) => matcher.test(segments.slice(0, i + 1).join('/')))) excluded = !negated;
    }
    return excluded;
  }

  it('builds on node:20-bookworm-slim and runs as a non-root user by default as viewer-api', () => {
    expect(instructions).toContain('ARG NODE_IMAGE=node:20-bookworm-slim');
    const user = finalStage.filter((line) => line.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)(:|$)/);
    expect(finalStage.at(-1)).toBe('CMD ["node", "--import", "tsx", "services/viewer-api/src/main.ts"]');
  });

  it('copies every workspace\'s package.json before npm ci, so the lockfile installs', () => {
    const workspaces = (JSON.parse(read('package.json')) as { workspaces: string[] }).workspaces;
    for (const workspace of workspaces) {
      expect(instructions).toContain(`COPY ${workspace}/package.json ${workspace}/`);
    }
    expect(instructions.some((line) => /^RUN .*npm ci --omit=dev/.test(line))).toBe(true);
  });

  it('health-checks /healthz with node, since the slim image has no curl', () => {
    const healthcheck = finalStage.find((line) => line.startsWith('HEALTHCHECK '));
    expect(healthcheck).toMatch(/CMD \["node", "-e", ".*\/healthz/);
  });

  it('copies only files that exist and that the ignore file lets into the build context', () => {
    const sources = instructions
      .filter((line) => line.startsWith('COPY ') && !line.includes('--from='))
      .flatMap((line) => line.split(/\s+/).slice(1, -1).filter((word) => !word.startsWith('--')));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      expect({ source, exists: exists(source), ignored: ignored(source) }).toEqual({ source, exists: true, ignored: false });
    }
  });

  it('keeps node_modules, data, .git and local env files out of the build context', () => {
    for (const file of ['node_modules/yaml/package.json', 'services/ingest/node_modules/x/index.js', 'data/postgres/PG_VERSION', '.git/HEAD', '.env']) {
      expect({ file, ignored: ignored(file) }).toEqual({ file, ignored: true });
    }
    for (const file of ['shared/src/config/settings.ts', 'infra/bootstrap/create-bucket.ts', 'test/package.json']) {
      expect({ file, ignored: ignored(file) }).toEqual({ file, ignored: false });
    }
  });
});
