// Copies the browser builds of the website's libraries into bot/web/static/vendor/.
// No bundler: the pages load these files as they are, from the app's own /static.
// Usage: npm ci && npm run build   (from this folder, or with --prefix web)
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const vendor = join(here, "..", "bot", "web", "static", "vendor");

// [package, file in the package, name in vendor/]
const FILES = [
  ["socket.io-client", "dist/socket.io.min.js", "socket.io.min.js"],
  ["socket.io-client", "dist/socket.io.min.js.map", "socket.io.min.js.map"],
  ["socket.io-client", "LICENSE", "socket.io-client.LICENSE"],
  ["chart.js", "dist/chart.umd.js", "chart.umd.js"],
  ["chart.js", "dist/chart.umd.js.map", "chart.umd.js.map"],
  ["chart.js", "LICENSE.md", "chart.js.LICENSE.md"],
];

mkdirSync(vendor, { recursive: true });
const versions = {};
for (const [pkg, file, target] of FILES) {
  const source = join(modules, pkg, file);
  if (!existsSync(source)) {
    console.error(`missing ${pkg}/${file}: run "npm ci" in ${here} first`);
    process.exit(1);
  }
  copyFileSync(source, join(vendor, target));
  versions[pkg] = JSON.parse(readFileSync(join(modules, pkg, "package.json"), "utf8")).version;
}
writeFileSync(join(vendor, "VERSIONS.json"), JSON.stringify(versions, null, 2) + "\n");
console.log(`copied ${FILES.length} files to ${vendor}:`, versions);
