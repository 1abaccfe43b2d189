// The deployment files, checked offline: the kustomization renders, every object validates
// against the Kubernetes schemas, the CronJob has the safety settings a refresh needs, the
// config in the ConfigMap is valid for the tool itself, and the Dockerfile lints clean.
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { CronJob } from 'kubernetes-models/batch/v1/CronJob';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/load-config.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  CronJob,
  ConfigMap,
  Namespace,
  ServiceAccount,
};

describe('deploy/k8s', () => {
  let objects: { kind: string; metadata: { name: string }; [key: string]: unknown }[];

  beforeAll(async () => {
    const { stdout } = await execa('kubectl', ['kustomize', 'deploy/k8s'], { cwd: ROOT });
    objects = parseAllDocuments(stdout).map((document) => document.toJS());
  });

  it('renders and every object validates against its Kubernetes schema', () => {
    expect(objects.map((object) => object.kind).sort()).toEqual([
      'ConfigMap',
      'CronJob',
      'Namespace',
      'ServiceAccount',
    ]);
    for (const object of objects) {
      const Model = MODELS[object.kind];
      expect(Model, object.kind).toBeDefined();
      expect(() =>
        new (Model as new (data: unknown) => { validate(): void })(object).validate(),
      ).not.toThrow();
    }
  });

  it('rejects a broken CronJob, so the validation above can fail', () => {
    const cronJob = structuredClone(objects.find((object) => object.kind === 'CronJob')) as Record<
      string,
      unknown
    >;
    (cronJob.spec as Record<string, unknown>).concurrencyPolicy = 7;
    expect(() => new CronJob(cronJob as never).validate()).toThrow();
  });

  it('runs weekly, never twice at once, fails fast on config and guard errors, and has time to abort cleanly', () => {
    const cronJob = objects.find((object) => object.kind === 'CronJob') as unknown as {
      spec: {
        schedule: string;
        timeZone: string;
        concurrencyPolicy: string;
        startingDeadlineSeconds: number;
        jobTemplate: {
          spec: {
            backoffLimit: number;
            activeDeadlineSeconds: number;
            ttlSecondsAfterFinished: number;
            podFailurePolicy: { rules: { action: string; onExitCodes?: { values: number[] } }[] };
            template: {
              spec: {
                restartPolicy: string;
                terminationGracePeriodSeconds: number;
                volumes: { ephemeral?: unknown }[];
              };
            };
          };
        };
      };
    };
    const { spec } = cronJob;
    expect(spec.schedule.split(' ')).toHaveLength(5);
    expect(spec.timeZone).toBeTruthy();
    expect(spec.concurrencyPolicy).toBe('Forbid');
    expect(spec.startingDeadlineSeconds).toBeGreaterThan(0);
    const job = spec.jobTemplate.spec;
    expect(job.backoffLimit).toBe(0);
    expect(job.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(job.ttlSecondsAfterFinished).toBeGreaterThan(0);
    expect(job.podFailurePolicy.rules.find((rule) => rule.action === 'FailJob')?.onExitCodes?.values).toEqual(
      expect.arrayContaining([65, 77, 78]),
    );
    expect(job.template.spec.restartPolicy).toBe('Never');
    expect(job.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(15);
    expect(job.template.spec.volumes.some((volume) => volume.ephemeral)).toBe(true);
  });

  it('ships a config the tool accepts', () => {
    const configMap = objects.find((object) => object.kind === 'ConfigMap') as unknown as {
      data: Record<string, string>;
    };
    const config = parseConfig(
      configMap.data['config.yaml'] as string,
      { ANONYMIZE_SECRET: 'x' },
      '/etc/staging-refresh',
    );
    expect(config.workDir).toBe('/var/lib/staging-refresh');
    expect(config.production.hosts).not.toHaveLength(0);
  });
});

describe('Dockerfile', () => {
  it('lints clean', async () => {
    const result = await execa(
      process.execPath,
      [`${ROOT}node_modules/dockerfile-utils/bin/dockerfile-utils`, 'lint', 'Dockerfile'],
      {
        cwd: ROOT,
        reject: false,
      },
    );
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe('');
  });
});
