import path from 'node:path';
import { ConfigError, loadConfig } from '.';

const secrets = { HUB_TOKEN_SECRET: 'x'.repeat(40), HUB_ID_HASH_SECRET: 'y'.repeat(40) };

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env, '/srv/hub');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('starts with no settings on the embedded default with conventional ports', () => {
    const config = loadConfig({}, '/srv/hub');
    expect(config.http.port).toBe(8080);
    expect(config.dicom).toEqual({ host: '0.0.0.0', port: 11112, aeTitle: 'HUB', spoolMemoryBytes: 8 * 1024 * 1024 });
    expect(config.mllp.port).toBe(2575);
    expect(config.dataDir).toBe('/srv/hub/data');
    expect(config.database).toEqual({ mode: 'embedded', port: 54320, dir: path.join('/srv/hub/data', 'postgres'), poolMax: 10 });
    expect(config.blob).toEqual({ driver: 'fs', root: '/srv/hub/data/blobs' });
    expect(config.demo).toBe(true);
    expect(config.publicUrl).toBe('http://localhost:8080');
  });

  it('switches to an external PostgreSQL and S3 from the environment', () => {
    const config = loadConfig(
      {
        DATABASE_URL: 'postgres://hub:pw@db:5432/hub',
        S3_ENDPOINT: 'http://minio:9000',
        S3_BUCKET: 'hub-results',
        S3_ACCESS_KEY_ID: 'hub',
        S3_SECRET_ACCESS_KEY: 'secret-key',
        S3_FORCE_PATH_STYLE: 'false',
        ...secrets,
      },
      '/srv/hub',
    );
    expect(config.database).toEqual({ mode: 'external', url: 'postgres://hub:pw@db:5432/hub', poolMax: 10 });
    expect(config.blob).toMatchObject({ driver: 's3', endpoint: 'http://minio:9000', bucket: 'hub-results', region: 'us-east-1', forcePathStyle: false, partSizeBytes: 16 * 1024 * 1024 });
    expect(config.demo).toBe(false);
  });

  it.each([
    [{ HTTP_PORT: 'eighty' }, 'HTTP_PORT'],
    [{ HTTP_PORT: '70000' }, 'HTTP_PORT'],
    [{ DICOM_AE_TITLE: 'A_TITLE_LONGER_THAN_16' }, 'DICOM_AE_TITLE'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ DATABASE_URL: 'postgres://db/hub' }, 'HUB_TOKEN_SECRET'],
    [{ DATABASE_URL: 'postgres://db/hub', HUB_TOKEN_SECRET: 'short' }, 'HUB_TOKEN_SECRET'],
    [{ DATABASE_URL: 'postgres://db/hub', HUB_TOKEN_SECRET: 'x'.repeat(40) }, 'HUB_ID_HASH_SECRET'],
    [{ S3_ENDPOINT: 'http://minio:9000' }, 'S3_BUCKET'],
    [{ S3_BUCKET: 'Bad_Bucket' }, 'S3_BUCKET'],
    [{ S3_BUCKET: 'hub', S3_ACCESS_KEY_ID: 'k' }, 'S3_SECRET_ACCESS_KEY'],
    [{ S3_BUCKET: 'hub', S3_PART_SIZE_MB: '2' }, 'S3_PART_SIZE_MB'],
    [{ S3_BUCKET: 'hub', S3_FORCE_PATH_STYLE: 'maybe' }, 'S3_FORCE_PATH_STYLE'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ HUB_TOKEN_TTL_SECONDS: '5' }, 'HUB_TOKEN_TTL_SECONDS'],
    [{ HUB_DTAA_DIR: '/tmp' }, 'HUB_DTAA_DIR'],
    [{ MLLP_TLS_CERT: 'hub.crt' }, 'MLLP_TLS_KEY'],
    [{ MLLP_TLS_CA: 'lis-ca.crt' }, 'MLLP_TLS_CERT'],
    [{ HUB_VIEWER_URL: 'ftp://viewer.example.org/viewer' }, 'HUB_VIEWER_URL'],
    [{ HUB_STATS_MIN_CELL: '-1' }, 'HUB_STATS_MIN_CELL'],
  ])('refuses %j with one line naming %s', (env, variable) => {
    const err = configError(env);
    expect(err.variable).toBe(variable);
    expect(err.message.startsWith(`${variable}: `)).toBe(true);
    expect(err.message).not.toContain('\n');
  });

  it('links no viewer unless HUB_VIEWER_URL names one, and withholds counts under 5 in the finest statistics unless told otherwise', () => {
    expect(loadConfig({}, '/srv/hub')).toMatchObject({ viewerUrl: undefined, statistics: { minCell: 5 } });
    expect(loadConfig({ HUB_VIEWER_URL: 'https://viewer.example.org/viewer', HUB_STATS_MIN_CELL: '0' }, '/srv/hub')).toMatchObject({ viewerUrl: 'https://viewer.example.org/viewer', statistics: { minCell: 0 } });
  });

  it('reads MLLP over (mutual) TLS as file paths beside the data', () => {
    expect(loadConfig({ MLLP_TLS_CERT: 'tls/hub.crt', MLLP_TLS_KEY: 'tls/hub.key', MLLP_TLS_CA: '/etc/hub/lis-ca.crt' }, '/srv/hub').mllp).toEqual({
      host: '0.0.0.0',
      port: 2575,
      tls: { certFile: '/srv/hub/tls/hub.crt', keyFile: '/srv/hub/tls/hub.key', caFile: '/etc/hub/lis-ca.crt' },
    });
  });

  it('never echoes a secret value in its error', () => {
    const err = configError({ DATABASE_URL: 'postgres://db/hub', HUB_TOKEN_SECRET: 'tooshort-secret' });
    expect(err.message).not.toContain('tooshort-secret');
  });
});
