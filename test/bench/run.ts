/** `npm run bench`: prints the figures the issues ask for. Not a test: nothing here fails on time. */
import { benchAnalysis } from './analysis';
import { benchEditor } from './editor';

async function main(): Promise<void> {
  console.log(`ConvLens benchmarks — Node ${process.version}, ${process.platform}/${process.arch}`);
  await benchAnalysis();
  await benchEditor();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
