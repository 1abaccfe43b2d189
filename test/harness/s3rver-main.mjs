// Runs s3rver in its own process (started by s3-server.ts with --openssl-legacy-provider: its
// ListObjectsV2 continuation tokens use DES). Args: directory port bucket[,bucket…]
import S3rver from 's3rver';

const [directory, port, buckets] = process.argv.slice(2);
const server = new S3rver({
  address: '127.0.0.1',
  port: Number(port),
  directory,
  silent: true,
  configureBuckets: (buckets ?? '')
    .split(',')
    .filter(Boolean)
    .map((name) => ({ name })),
});
await server.run();
process.stdout.write('ready\n');
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
