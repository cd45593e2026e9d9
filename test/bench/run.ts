/** `npm run bench`: prints the figures the issues ask for. Not a test: nothing here fails on time. */
import { benchAnalysis } from './analysis';
import { benchApplications } from './applications';
import { benchBombs } from './bombs';
import { benchEditor } from './editor';
import { benchFeatureMaps } from './featureMaps';
import { benchPytorch } from './pytorch';
import { benchServer } from './server';
import { benchMemory, benchTraining } from './training';

async function main(): Promise<void> {
  console.log(`ConvLens benchmarks — Node ${process.version}, ${process.platform}/${process.arch}`);
  // `npm run bench -- training` runs only the named parts (analysis, applications, editor,
  // server, featureMaps, training, bombs, memory: the VGG16-size peak-memory comparison, two
  // fresh processes of about a minute each).
  const only = process.argv.slice(2);
  const want = (name: string) => only.length === 0 || only.includes(name);
  if (want('analysis')) await benchAnalysis();
  if (want('applications')) await benchApplications();
  if (want('pytorch')) await benchPytorch();
  if (want('editor')) await benchEditor();
  if (want('server')) await benchServer();
  if (want('featureMaps')) await benchFeatureMaps();
  if (want('training')) await benchTraining();
  if (want('bombs')) await benchBombs();
  if (want('memory')) await benchMemory();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
