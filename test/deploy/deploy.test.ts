// The packaging files must agree with the code: every service is in compose and Kubernetes, on
// its default port, with variables the config spec knows and valid values, entry files that exist,
// pinned images, probes on the served port. Parsed only: no Docker engine or cluster here.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "@lotty/platform/config";
import { hostConfigSpec } from "@lotty/platform/host";
import { describe, expect, it } from "vitest";
import {
  dockerIgnored,
  dockerInstructions,
  entryFor,
  exists,
  lockClosure,
  packageJson,
  pinned,
  read,
  ROOT,
  servicePorts,
  yamlDocuments,
  yamlFile,
  type Json,
  type Manifest,
} from "./repo.js";

const PORTS = servicePorts();
const SERVICES = [...PORTS.keys()];
const SPEC_VARS = new Set(Object.keys(hostConfigSpec));
/** Variables of the third-party images in compose (their own documented settings). */
const THIRD_PARTY_VARS = /^(POSTGRES_(USER|PASSWORD|DB|INITDB_ARGS|HOST_AUTH_METHOD)|COLLECTOR_OTLP_ENABLED)$/;
const durationMs = (value: string): number => loadConfig({ d: hostConfigSpec.LOTTY_SHUTDOWN_GRACE }, { d: value }).d;
const hostAndPort = (url: string): string => new URL(url).host;

describe("code facts the packaging relies on", () => {
  it("finds the five services with distinct default ports", () => {
    expect(SERVICES).toEqual(["decision", "experiment", "guardrail", "metrics", "notification"]);
    expect(new Set(PORTS.values()).size).toBe(SERVICES.length);
  });

  it("maps each SERVICE build argument to the entry file the packages start", () => {
    for (const name of SERVICES) {
      const start = packageJson(`services/${name}`).scripts?.start;
      expect(start, name).toBe("node --import tsx src/main.ts");
      expect(entryFor(name)).toBe(`services/${name}/src/main.ts`);
    }
    // `npm start` bundles the same entry (scripts/start.mjs); the image runs it through tsx, as the
    // bundle would have to be written into a read-only root filesystem.
    expect(packageJson(".").scripts?.start).toBe("node scripts/start.mjs");
    expect(read("scripts/start.mjs")).toContain(`"${entryFor("embedded")}"`);
    const cli = JSON.parse(read("apps/cli/package.json")) as { exports: Record<string, string> };
    expect(entryFor("cli")).toBe(join("apps/cli", cli.exports["."]));
    expect(entryFor("nonsense")).toBeNull();
  });
});

describe("Dockerfile", () => {
  const text = read("Dockerfile");
  const steps = dockerInstructions(text);
  const args = (op: string) => steps.filter((s) => s.op === op).map((s) => s.args);
  const defaultArg = (name: string) => args("ARG").find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1);
  const stages = args("FROM").map((a) => a.split(/\s+AS\s+/i)[1]).filter(Boolean);
  const runtime = steps.slice(steps.map((s) => s.op).lastIndexOf("FROM"));

  it("bases every stage on one pinned slim Node image of the engines' major version", () => {
    const image = defaultArg("NODE_IMAGE") ?? "";
    const major = /(\d+)/.exec(packageJson(".").engines?.node ?? "")?.[1];
    expect(image).toMatch(new RegExp(`^node:${major}[\\w.-]*-bookworm-slim$`));
    expect(pinned(image)).toBe(true);
    for (const from of args("FROM")) expect(from).toMatch(/^\$\{NODE_IMAGE\} AS \w[\w-]*$/);
  });

  it("copies only what exists and what .dockerignore lets into the context", () => {
    const ignore = read(".dockerignore").split("\n");
    for (const copy of args("COPY")) {
      const parts = copy.split(/\s+/).filter((p) => !p.startsWith("--chown") && !p.startsWith("--chmod"));
      const from = /^--from=(\S+)/.exec(parts[0])?.[1];
      const sources = parts.slice(from ? 1 : 0, -1);
      if (from) expect(stages, copy).toContain(from);
      for (const src of sources) {
        // The source stage holds the build context at /src; the others are checked below.
        const path = from === "source" ? src.replace(/^\/src\/?/, "") : from ? undefined : src;
        if (path === undefined || path === "." || path.startsWith("/manifests")) continue;
        expect(exists(path), `${path} (COPY ${copy})`).toBe(true);
        expect(dockerIgnored(ignore, path.replace(/\/$/, "")), `${path} is excluded by .dockerignore`).toBe(false);
      }
    }
    for (const needed of ["package-lock.json", "package.json", "libs/platform/src/host/config.ts", "bench/package.json"]) {
      expect(dockerIgnored(ignore, needed), needed).toBe(false);
    }
    for (const excluded of ["node_modules/tsx", "services/metrics/node_modules", ".git", "services/metrics/test/x.test.ts"]) {
      expect(dockerIgnored(ignore, excluded), excluded).toBe(true);
    }
  });

  it("lifts tsx with its whole Linux runtime closure (from the lockfile) out of the dev install", () => {
    const lifted = args("COPY")
      .filter((a) => a.startsWith("--from=dev-deps"))
      .map((a) => a.split(/\s+/)[1].replace(/^\/app\//, ""));
    const closure = lockClosure("tsx");
    expect(closure).toContain("node_modules/esbuild");
    for (const path of closure) {
      expect(lifted.some((dir) => path === dir || path.startsWith(`${dir}/`)), path).toBe(true);
    }
    expect(text).toMatch(/npm ci --omit=dev/);
  });

  it("runs as a numeric non-root user, checks /healthz and starts through the entrypoint", () => {
    const runtimeArgs = (op: string) => runtime.filter((s) => s.op === op).map((s) => s.args);
    expect(runtimeArgs("ARG")).toContain("SERVICE");
    expect(runtimeArgs("ENV").join(" ")).toMatch(/LOTTY_SERVICE=\$\{SERVICE\}/);
    const user = runtimeArgs("USER").at(-1) ?? "";
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(":")[0])).toBeGreaterThan(0);
    const health = JSON.parse(runtimeArgs("HEALTHCHECK")[0].replace(/^.*?CMD\s+/, "")) as string[];
    expect(health[0]).toBe("node");
    expect(exists(health[1])).toBe(true);
    expect(read(health[1])).toMatch(/\/healthz/);
    const entrypoint = JSON.parse(runtimeArgs("ENTRYPOINT")[0]) as string[];
    expect(entrypoint[0]).toBe("sh");
    expect(exists(entrypoint[1])).toBe(true);
    expect(runtimeArgs("RUN").join("\n")).toContain(`sh ${entrypoint[1]} --check`);
  });
});

describe("docker-compose.yml", () => {
  const compose = yamlFile("docker-compose.yml");
  const services = compose.services as Record<string, Json>;
  const built = Object.entries(services).filter(([, s]) => s.build);
  const env = (name: string) => (services[name].environment ?? {}) as Record<string, string>;

  it("runs every service from the one Dockerfile, on its default port, with its own image tag", () => {
    for (const [name, port] of PORTS) {
      const s = services[name];
      expect(s, name).toBeDefined();
      expect(s.build).toEqual({ context: ".", args: { SERVICE: name } });
      expect(s.image).toBe(`lotty/${name}:${packageJson(`services/${name}`).version}`);
      expect(env(name).LOTTY_PORT).toBe(String(port));
      expect(s.ports).toContain(`${port}:${port}`);
      expect(s.profiles, `${name} must start by default`).toBeUndefined();
    }
    for (const [name, s] of built) expect(entryFor(String((s.build as Json & { args: Json }).args.SERVICE)), name).not.toBeNull();
  });

  it("offers the embedded all-in-one behind its profile", () => {
    const s = services.embedded;
    expect(s.profiles).toEqual(["embedded"]);
    expect((s.build as { args: Json }).args.SERVICE).toBe("embedded");
    expect(s.ports).toContain(`${hostConfigSpec.LOTTY_PORT.default}:${env("embedded").LOTTY_PORT}`);
  });

  it("pins every image", () => {
    for (const [name, s] of Object.entries(services)) expect(pinned(String(s.image)), `${name}: ${s.image}`).toBe(true);
  });

  it("sets only known variables, with values the config loader accepts", () => {
    for (const [name, s] of Object.entries(services)) {
      for (const key of Object.keys(env(name))) {
        expect(SPEC_VARS.has(key) || (!s.build && THIRD_PARTY_VARS.test(key)), `${name}: ${key}`).toBe(true);
      }
    }
    for (const [name] of built) expect(() => loadConfig(hostConfigSpec, env(name)), name).not.toThrow();
  });

  it("wires each service to its own database and to peers and stores that exist", () => {
    const databases = SERVICES.map((name) => new URL(env(name).DATABASE_URL));
    expect(databases.map((u) => u.pathname)).toEqual(SERVICES.map((name) => `/lotty_${name}`));
    for (const url of databases) expect(services[url.hostname], url.hostname).toBeDefined();
    for (const name of SERVICES) {
      const vars = env(name);
      for (const peer of SERVICES) {
        expect(vars[`LOTTY_${peer.toUpperCase()}_URL`], `${name} → ${peer}`).toBe(`http://${peer}:${PORTS.get(peer)}`);
      }
      for (const key of ["REDIS_URL", "NATS_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"]) {
        expect(services[new URL(vars[key]).hostname], `${name}: ${key}`).toBeDefined();
      }
      expect(vars.LOTTY_HOST).toBe("0.0.0.0");
    }
  });

  it("waits for healthy dependencies and leaves the shutdown grace time to finish", () => {
    for (const [name, s] of Object.entries(services)) {
      const deps = s.depends_on ?? [];
      const entries = Array.isArray(deps) ? deps.map((d) => [d, {}]) : Object.entries(deps as Json);
      for (const [dep, cond] of entries as [string, { condition?: string }][]) {
        expect(services[dep], `${name} depends on ${dep}`).toBeDefined();
        // Dockerfile-built services have the image's HEALTHCHECK.
        if (cond.condition === "service_healthy") expect(services[dep].healthcheck ?? services[dep].build, `${name} → ${dep}`).toBeDefined();
      }
    }
    for (const name of SERVICES) {
      const deps = services[name].depends_on as Record<string, { condition: string }>;
      for (const store of ["postgres", "redis", "nats"]) expect(deps[store]?.condition, `${name} → ${store}`).toBe("service_healthy");
      const grace = durationMs(env(name).LOTTY_SHUTDOWN_GRACE ?? String(hostConfigSpec.LOTTY_SHUTDOWN_GRACE.default));
      expect(durationMs(String(services[name].stop_grace_period))).toBeGreaterThan(grace);
    }
    expect((services.postgres.healthcheck as { test: string[] }).test).toContain("pg_isready");
  });

  it("runs NATS with JetStream on a volume, and mounts only files that exist", () => {
    const nats = services.nats;
    expect(nats.command).toContain("-js");
    const storeDir = (nats.command as string[])[(nats.command as string[]).indexOf("-sd") + 1];
    expect((nats.volumes as string[]).some((v) => v.endsWith(`:${storeDir}`))).toBe(true);
    const named = Object.keys((compose.volumes ?? {}) as Json);
    for (const [name, s] of Object.entries(services)) {
      for (const volume of (s.volumes ?? []) as string[]) {
        const source = volume.split(":")[0];
        if (source.startsWith(".")) expect(exists(source), `${name}: ${source}`).toBe(true);
        else expect(named, `${name}: ${source}`).toContain(source);
      }
    }
  });

  it("sends traces through the collector's OTLP/HTTP receiver on to Jaeger", () => {
    const collector = yamlFile("deploy/otel-collector.yaml") as {
      receivers: Record<string, Json>;
      processors: Record<string, Json>;
      exporters: Record<string, { endpoint: string }>;
      service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
    };
    const traces = collector.service.pipelines.traces;
    for (const kind of ["receivers", "processors", "exporters"] as const) {
      for (const component of traces[kind]) expect(collector[kind][component], `${kind}: ${component}`).toBeDefined();
    }
    const http = (collector.receivers.otlp.protocols as { http: { endpoint: string } }).http.endpoint;
    const otlp = new URL(env("decision").OTEL_EXPORTER_OTLP_ENDPOINT);
    expect(http.split(":").at(-1)).toBe(otlp.port);
    expect(String(services[otlp.hostname].image)).toMatch(/^otel\/opentelemetry-collector-contrib:/);
    const mount = (services[otlp.hostname].volumes as string[]).find((v) => v.startsWith("./deploy/otel-collector.yaml:"));
    expect(services[otlp.hostname].command).toContain(`--config=${mount?.split(":")[1]}`);
    const jaeger = collector.exporters[traces.exporters[0]].endpoint.split(":")[0];
    expect(String(services[jaeger].image)).toMatch(/^jaegertracing\/all-in-one:/);
    expect(services[jaeger].ports).toContain("16686:16686");
  });

  it("has Prometheus scrape every service on its port", () => {
    const prometheus = yamlFile("deploy/prometheus.yml") as { scrape_configs: { static_configs: { targets: string[] }[] }[] };
    const targets = prometheus.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    expect(targets.sort()).toEqual(SERVICES.map((name) => `${name}:${PORTS.get(name)}`).sort());
  });
});

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  startupProbe?: { grpc?: { port: number } };
  readinessProbe?: { grpc?: { port: number } };
  livenessProbe?: { grpc?: { port: number } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Json; limits?: Json };
  securityContext?: Json;
}
interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  terminationGracePeriodSeconds?: number;
  restartPolicy?: string;
}
interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: PodSpec;
}

describe("deploy/ (Kubernetes, kustomize base)", () => {
  const docs = yamlDocuments("deploy");
  const base = docs.filter((d) => d.file.startsWith("deploy/base/") && !d.file.endsWith("kustomization.yaml"));
  const find = (kind: string, name: string): Manifest | undefined => base.find((d) => d.kind === kind && d.metadata?.name === name);
  const must = (kind: string, name: string): Manifest => {
    const found = find(kind, name);
    if (!found) throw new Error(`no ${kind} ${name} in deploy/base`);
    return found;
  };
  const template = (d: Manifest): PodTemplate =>
    (d.kind === "CronJob" ? ((d.spec?.jobTemplate as Json).spec as Json).template : d.spec?.template) as PodTemplate;
  const workloads = base.filter((d) => d.kind === "Deployment" || d.kind === "CronJob");
  const configMap = must("ConfigMap", "lotty-config");
  const secret = must("Secret", "lotty-secrets");
  const secretValues = { ...secret.stringData };

  /** A container's environment as the process sees it (ConfigMap, then env; Secret values resolved). */
  const environment = (c: Container): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const from of c.envFrom ?? []) {
      const ref = from.configMapRef ?? from.secretRef;
      const source = must(from.configMapRef ? "ConfigMap" : "Secret", ref?.name ?? "");
      Object.assign(out, source.data ?? source.stringData);
    }
    for (const e of c.env ?? []) {
      const secretRef = e.valueFrom?.secretKeyRef;
      const configRef = e.valueFrom?.configMapKeyRef;
      if (secretRef) out[e.name] = must("Secret", secretRef.name).stringData?.[secretRef.key] ?? "";
      else if (configRef) out[e.name] = must("ConfigMap", configRef.name).data?.[configRef.key] ?? "";
      else out[e.name] = e.value ?? "";
    }
    return out;
  };

  it("parses into objects with apiVersion, kind and metadata.name", () => {
    expect(base.length).toBeGreaterThan(0);
    for (const d of docs.filter((doc) => doc.file.startsWith("deploy/base/"))) {
      expect(d.apiVersion, d.file).toBeTruthy();
      expect(d.kind, d.file).toBeTruthy();
      if (d.kind !== "Kustomization") expect(d.metadata?.name, d.file).toBeTruthy();
    }
  });

  it("lists every resource file of the base in kustomization.yaml, and nothing missing", () => {
    const kustomization = yamlFile("deploy/base/kustomization.yaml") as { resources: string[]; namespace: string };
    const files = readdirSync(join(ROOT, "deploy/base")).filter((f) => /\.ya?ml$/.test(f) && f !== "kustomization.yaml");
    expect([...kustomization.resources].sort()).toEqual(files.sort());
    expect(find("Namespace", kustomization.namespace)).toBeDefined();
  });

  it("has a Deployment and a Service per service, on its default port, with gRPC probes on it", () => {
    for (const [name, port] of PORTS) {
      const deployment = must("Deployment", name);
      const pod = template(deployment);
      const container = pod.spec.containers[0];
      expect(container.ports).toEqual([{ name: "grpc", containerPort: port, protocol: "TCP" }]);
      expect(environment(container).LOTTY_PORT).toBe(String(port));
      for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"] as const) {
        expect(container[probe]?.grpc?.port, `${name} ${probe}`).toBe(port);
      }
      expect(container.image).toBe(`lotty/${name}:${packageJson(`services/${name}`).version}`);
      const service = must("Service", name);
      const ports = (service.spec?.ports ?? []) as { name: string; port: number; targetPort: string | number }[];
      expect(ports).toHaveLength(1);
      expect(ports[0]).toMatchObject({ name: "grpc", port });
      expect([port, "grpc"]).toContain(ports[0].targetPort);
      expect(pod.metadata.labels).toMatchObject(service.spec?.selector as Record<string, string>);
    }
  });

  it("selects exactly its own pods with every Deployment, PodDisruptionBudget and Service", () => {
    const podLabels = base.filter((d) => d.kind === "Deployment").map((d) => template(d).metadata.labels);
    for (const d of base.filter((doc) => ["Deployment", "PodDisruptionBudget", "Service"].includes(doc.kind ?? ""))) {
      const selector = (d.kind === "Service" ? d.spec?.selector : (d.spec?.selector as Json).matchLabels) as Record<string, string>;
      const own = d.kind === "Deployment" ? template(d).metadata.labels : template(must("Deployment", d.metadata?.name ?? "")).metadata.labels;
      expect(own, `${d.kind} ${d.metadata?.name}`).toMatchObject(selector);
      const matched = podLabels.filter((labels) => Object.entries(selector).every(([k, v]) => labels[k] === v));
      expect(matched, `${d.kind} ${d.metadata?.name}`).toHaveLength(1);
    }
  });

  it("sets only variables the config spec knows, with values it accepts", () => {
    for (const key of Object.keys(configMap.data ?? {})) expect(SPEC_VARS.has(key), `ConfigMap ${key}`).toBe(true);
    for (const d of base.filter((doc) => doc.kind === "Deployment")) {
      const container = template(d).spec.containers[0];
      for (const e of container.env ?? []) expect(SPEC_VARS.has(e.name), `${d.metadata?.name}: ${e.name}`).toBe(true);
      for (const e of container.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) expect(Object.keys(secretValues), `${d.metadata?.name}: ${ref.key}`).toContain(ref.key);
      }
      const vars = environment(container);
      expect(() => loadConfig(hostConfigSpec, vars), d.metadata?.name).not.toThrow();
      expect(new URL(vars.DATABASE_URL).pathname).toBe(`/lotty_${d.metadata?.name}`);
      expect(vars.LOTTY_HOST).toBe("0.0.0.0");
    }
  });

  it("points each peer URL at that service's Service and port", () => {
    for (const name of SERVICES) {
      const url = configMap.data?.[`LOTTY_${name.toUpperCase()}_URL`] ?? "";
      expect(hostAndPort(url)).toBe(`${name}:${PORTS.get(name)}`);
      expect(find("Service", new URL(url).hostname)).toBeDefined();
    }
  });

  it("gives in-flight calls time to drain, and runs non-root with resources set", () => {
    for (const d of workloads) {
      const pod = template(d).spec;
      expect(pod.securityContext?.runAsNonRoot, d.metadata?.name).toBe(true);
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      for (const c of pod.containers) {
        expect(c.resources?.requests?.cpu, `${d.metadata?.name} cpu`).toBeTruthy();
        expect(c.resources?.requests?.memory).toBeTruthy();
        expect(c.resources?.limits?.memory).toBeTruthy();
        expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false });
      }
    }
    for (const name of SERVICES) {
      const pod = template(must("Deployment", name)).spec;
      const container = pod.containers[0];
      const grace = durationMs(environment(container).LOTTY_SHUTDOWN_GRACE ?? String(hostConfigSpec.LOTTY_SHUTDOWN_GRACE.default));
      const preStop = container.lifecycle?.preStop?.exec?.command ?? [];
      const sleepMs = preStop[0] === "sleep" ? Number(preStop[1]) * 1000 : 0;
      expect((pod.terminationGracePeriodSeconds ?? 30) * 1000, name).toBeGreaterThan(grace + sleepMs);
    }
  });

  it("pins every image and runs only entry files that exist", () => {
    for (const d of workloads) {
      for (const c of template(d).spec.containers) {
        expect(pinned(c.image), `${d.metadata?.name}: ${c.image}`).toBe(true);
        for (const token of [...(c.command ?? []), ...(c.args ?? [])]) {
          if (/^[\w.-]+\/[\w./-]+\.(ts|mjs|js)$/.test(token)) expect(exists(token), `${d.metadata?.name}: ${token}`).toBe(true);
        }
      }
    }
  });

  it("autoscales decision on CPU and keeps one pod through voluntary disruptions", () => {
    const hpa = must("HorizontalPodAutoscaler", "decision");
    expect(hpa.apiVersion).toBe("autoscaling/v2");
    expect(hpa.spec?.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "decision" });
    const metrics = hpa.spec?.metrics as { type: string; resource: { name: string } }[];
    expect(metrics.map((m) => `${m.type}/${m.resource.name}`)).toContain("Resource/cpu");
    expect(Number(hpa.spec?.minReplicas)).toBeGreaterThanOrEqual(2);
    expect(Number(hpa.spec?.maxReplicas)).toBeGreaterThan(Number(hpa.spec?.minReplicas));
    // Replicas in the Deployment would fight the HPA on every apply.
    expect(must("Deployment", "decision").spec?.replicas).toBeUndefined();
    const pdb = must("PodDisruptionBudget", "decision");
    expect(Number(pdb.spec?.minAvailable)).toBeLessThan(Number(hpa.spec?.minReplicas));
    const cpu = template(must("Deployment", "decision")).spec.containers[0].resources?.requests?.cpu;
    expect(cpu, "the HPA's utilisation is relative to the CPU request").toBeTruthy();
  });

  it("sweeps guardrails every minute, never two at once, each run ending before the next", () => {
    const cron = must("CronJob", "guardrail-sweep");
    const spec = cron.spec as { schedule: string; concurrencyPolicy: string; startingDeadlineSeconds: number; jobTemplate: { spec: Json } };
    expect(spec.schedule).toBe("* * * * *");
    expect(spec.concurrencyPolicy).toBe("Forbid");
    expect(spec.startingDeadlineSeconds).toBeGreaterThan(0);
    expect(spec.startingDeadlineSeconds).toBeLessThan(60);
    expect(spec.jobTemplate.spec.backoffLimit).toBeGreaterThanOrEqual(0);
    expect(spec.jobTemplate.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(spec.jobTemplate.spec.activeDeadlineSeconds).toBeLessThan(60);
    const pod = template(cron);
    expect(pod.spec.restartPolicy).toBe("Never");
    const [container] = pod.spec.containers;
    const command = [...(container.command ?? []), ...(container.args ?? [])];
    expect(command.slice(0, 4)).toEqual(["node", "--import", "tsx", entryFor("cli")]);
    expect(command.slice(4, 6)).toEqual(["guardrails", "sweep"]);
    expect(command[command.indexOf("--url") + 1]).toBe(configMap.data?.LOTTY_GUARDRAIL_URL);
    expect(container.image).toBe(`lotty/cli:${packageJson("apps/cli").version}`);
  });

  const kubectl = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" }).status === 0;
  it.skipIf(!kubectl)("builds with kustomize into the lotty namespace", () => {
    const out = spawnSync("kubectl", ["kustomize", "deploy/base"], { cwd: ROOT, encoding: "utf8" });
    expect(out.stderr).toBe("");
    const built = out.stdout.split(/^---$/m).filter((s) => s.trim());
    expect(built).toHaveLength(base.length);
    const namespaced = built.filter((doc) => !/^kind: Namespace$/m.test(doc));
    for (const doc of namespaced) expect(doc).toMatch(/^ {2}namespace: lotty$/m);
  });
});
