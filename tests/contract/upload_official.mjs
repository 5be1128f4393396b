// Upload one file with the official @actions/artifact client (raw, skipArchive), the reference
// our Python uploader is compared against. Runner variables come from the environment.
// Usage: node upload_official.mjs <file> [--retention-days N] [--overwrite]
// Prints one line `RESULT <json>` with the client's answer, or `ERROR <message>` and exits 1.
import path from 'node:path';
import { DefaultArtifactClient } from '@actions/artifact';

const args = process.argv.slice(2);
const file = path.resolve(args[0]);
const retentionIndex = args.indexOf('--retention-days');
const retentionDays = retentionIndex >= 0 ? Number(args[retentionIndex + 1]) : undefined;
const overwrite = args.includes('--overwrite');

const client = new DefaultArtifactClient();
try {
  const name = path.basename(file);
  if (overwrite) {
    // What actions/upload-artifact does for `overwrite: true`: delete by name, ignore "not found".
    try {
      await client.deleteArtifact(name);
    } catch (error) {
      if (error?.name !== 'ArtifactNotFoundError') throw error;
    }
  }
  const result = await client.uploadArtifact(name, [file], path.dirname(file), {
    skipArchive: true,
    retentionDays,
  });
  console.log(`RESULT ${JSON.stringify(result)}`);
} catch (error) {
  console.log(`ERROR ${error?.message ?? error}`);
  process.exit(1);
}
