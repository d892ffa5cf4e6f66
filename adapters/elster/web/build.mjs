// Builds the embedded assets of the ELSTER login page into dist/:
// login.js (the page script with node-forge, minified), login.css, and
// THIRD-PARTY-LICENSES.txt (licences of the code bundled into login.js).
// Run through `make` (see README.md); the output is committed.
import * as esbuild from 'esbuild';
import fs from 'node:fs';

const common = { bundle: true, minify: true, legalComments: 'none', logLevel: 'warning' };

await esbuild.build({
  ...common,
  entryPoints: ['src/login.js'],
  outfile: 'dist/login.js',
  format: 'iife',
  platform: 'browser',
  target: ['es2020'],
});

await esbuild.build({
  ...common,
  entryPoints: ['src/login.css'],
  outfile: 'dist/login.css',
});

const licences = [
  ['node-forge', 'node_modules/node-forge/package.json', 'node_modules/node-forge/LICENSE'],
  ['esbuild (runtime helpers)', 'node_modules/esbuild/package.json', 'node_modules/esbuild/LICENSE.md'],
];
let text = 'Third-party code bundled into login.js\n\n';
for (const [name, pkg, file] of licences) {
  const meta = JSON.parse(fs.readFileSync(pkg, 'utf8'));
  text += '='.repeat(72) + '\n';
  text += `${name} ${meta.version} (licence: ${meta.license})\n`;
  text += '='.repeat(72) + '\n\n';
  text += fs.readFileSync(file, 'utf8').trim() + '\n\n';
}
fs.writeFileSync('dist/THIRD-PARTY-LICENSES.txt', text);
