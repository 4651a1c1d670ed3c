/**
 * Lays out the official mLAMA 1.1 layout (data/ with TREx_multilingual_objects/, GoogleRE_objects/ and
 * mlama1.1/<lang>/) under DIR from the bundled sample, or from FROM, a flat dataset folder:
 *   node --import tsx tools/make-official-layout.ts DIR [FROM]
 * Prints the data/ root. The GoogleRE part it writes is described in test/support/officialLayout.ts.
 */
import { resolve } from 'node:path';
import { makeOfficialLayout, SAMPLE } from '../test/support/officialLayout.js';

const [dir, from = SAMPLE] = process.argv.slice(2);
if (!dir) {
  console.error('usage: make-official-layout.ts DIR [FROM]  (writes DIR/data)');
  process.exit(2);
}
try {
  console.log(makeOfficialLayout(resolve(dir), resolve(from)).data);
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exit(2);
}
