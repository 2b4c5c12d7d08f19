#!/usr/bin/env node
// A native-solc look-alike for py-solc-x, backed by the npm `solc` package (solc-js).
//
// py-solc-x (used by ape-solidity) runs `solc-v<version> --version` and
// `solc-v<version> --standard-json [--base-path P] [--allow-paths ...]` with the
// standard JSON input on stdin. solc-js's own CLI prints a warning before its JSON,
// so it cannot stand in; this script implements just those two calls.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const solc = require(path.join(root, "node_modules", "solc"));

function argValue(args, name) {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : null;
}

function main() {
  const args = process.argv.slice(2);
  if (args.includes("--version")) {
    process.stdout.write("solc, the solidity compiler commandline interface\n");
    process.stdout.write(`Version: ${solc.version()}\n`);
    return 0;
  }
  if (!args.includes("--standard-json")) {
    process.stderr.write("solc shim: only --version and --standard-json are supported\n");
    return 2;
  }
  const basePath = argValue(args, "--base-path") || process.cwd();
  const searchRoots = [basePath, process.cwd(), root];
  const includePath = argValue(args, "--include-path");
  if (includePath) searchRoots.push(includePath);

  function findImports(importPath) {
    const candidates = path.isAbsolute(importPath)
      ? [importPath]
      : searchRoots.map((r) => path.resolve(r, importPath));
    for (const candidate of candidates) {
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
        return { contents: fs.readFileSync(candidate, "utf8") };
      }
    }
    return { error: `File not found: ${importPath} (searched ${searchRoots.join(", ")})` };
  }

  const input = fs.readFileSync(0, "utf8");
  const output = solc.compile(input, { import: findImports });
  process.stdout.write(output);
  return 0;
}

process.exitCode = main();
