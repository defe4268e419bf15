#!/usr/bin/env node
// Packs every publishable library (packages/*, not private) with `pnpm pack` into one folder, for a
// project outside this workspace to install together:
//
//   pnpm pack:all                 # → packs/shoal-schema-0.1.0.tgz, packs/shoal-transport-0.1.0.tgz, ...
//   pnpm pack:all --out DIR       # another folder (created; old Shoal tarballs in it are replaced)
//
// Build first (`pnpm build`): a tarball holds dist/ as it is. Each packed manifest is checked: no
// `workspace:` or `catalog:` range is left, and every Shoal sibling is also a peer dependency at its
// exact version (added by scripts/pack-hooks.cjs), so `npm install` and `pnpm add` of the tarballs together
// resolve them to each other with no overrides. Prints one tarball path a line (stdout).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
/** Where the tarballs go unless `--out DIR` says otherwise (git-ignored). */
const DEFAULT_OUT = join(root, 'packs')
const SHOAL_SCOPE = '@shoal/'
/** The `beforePacking` hook that adds the peers; given to pnpm for the pack only (see the file). */
const PACK_HOOKS = join(root, 'scripts', 'pack-hooks.cjs')
const DEPENDENCY_FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies']

function parseArgs(argv) {
  let out = DEFAULT_OUT
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && argv[i + 1] !== undefined) out = resolve(argv[++i])
    else {
      console.error(`pack-all: unknown argument ${JSON.stringify(argv[i])} (usage: pack-all [--out DIR])`)
      process.exit(2)
    }
  }
  return { out }
}

/** The publishable libraries: every packages/* whose package.json is not private. */
export function publishableLibraries() {
  const dir = join(root, 'packages')
  return readdirSync(dir)
    .map((name) => join(dir, name))
    .filter((path) => existsSync(join(path, 'package.json')))
    .map((path) => ({ path, manifest: JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) }))
    .filter(({ manifest }) => manifest.private !== true)
    .sort((a, b) => a.manifest.name.localeCompare(b.manifest.name))
}

/** What is wrong with a packed manifest (empty: nothing). */
export function manifestProblems(manifest) {
  const problems = []
  for (const field of DEPENDENCY_FIELDS) {
    for (const [name, range] of Object.entries(manifest[field] ?? {})) {
      if (/^(workspace|catalog):/.test(range)) problems.push(`${field}.${name} is ${range}`)
    }
  }
  for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
    if (name.startsWith(SHOAL_SCOPE) && manifest.peerDependencies?.[name] !== range) {
      problems.push(`${name} ${range} is not also a peer dependency at ${range}`)
    }
  }
  return problems
}

function packedManifest(tarball) {
  return JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' }))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { out } = parseArgs(process.argv.slice(2))
  mkdirSync(out, { recursive: true })
  for (const name of readdirSync(out)) {
    if (/^shoal-.*\.tgz$/.test(name)) rmSync(join(out, name))
  }
  let failed = false
  for (const { path, manifest } of publishableLibraries()) {
    if (!existsSync(join(path, 'dist'))) {
      console.error(`pack-all: ${manifest.name} has no dist/: run \`pnpm build\` first`)
      process.exit(1)
    }
    const tarball = join(out, `${manifest.name.replace(/^@/, '').replace('/', '-')}-${manifest.version}.tgz`)
    execFileSync('pnpm', [`--config.pnpmfile=${PACK_HOOKS}`, 'pack', '--pack-destination', out], {
      cwd: path,
      stdio: ['ignore', 'ignore', 'inherit'],
    })
    if (!existsSync(tarball)) throw new Error(`pnpm pack of ${manifest.name} wrote no ${tarball}`)
    const problems = manifestProblems(packedManifest(tarball))
    for (const problem of problems) console.error(`pack-all: ${manifest.name}: ${problem}`)
    failed ||= problems.length > 0
    console.log(tarball)
  }
  if (failed) process.exit(1)
}
