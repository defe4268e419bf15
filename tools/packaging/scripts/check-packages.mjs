#!/usr/bin/env node
// `pnpm check:packages` (CI runs it from ./dev test): are the packages fit to publish?
//   1. the libraries packed (scripts/pack-all.mjs: no workspace:/catalog: range left, Shoal siblings
//      also peers at their exact versions);
//   2. publint --strict on every library and app (apps are private, but their packed form is what a
//      deployment copies: bin, files, exports);
//   3. arethetypeswrong on every library tarball, with the esm-only profile: the packages are ES modules
//      only (documented), so a CommonJS `require` or node10 resolution is not asked of them, but every
//      entry point must resolve with types under node16 (from ESM) and bundlers.
// Needs built packages (`pnpm build`). Exits 1 if anything is reported.
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const packagingDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const root = join(packagingDir, '..', '..')
/** This package's own devDependencies, as pnpm links their commands. */
const bin = (name) => join(packagingDir, 'node_modules', '.bin', name)

/** The libraries (packages/*) and the apps (apps/*): every workspace package that has a packed form. */
function packageDirs() {
  return ['packages', 'apps'].flatMap((group) =>
    readdirSync(join(root, group))
      .map((name) => join(root, group, name))
      .filter((dir) => existsSync(join(dir, 'package.json'))),
  )
}

let failures = 0
function check(what, command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' })
  if (result.status === 0) {
    console.log(`ok    ${what}`)
    return
  }
  failures++
  console.log(`FAIL  ${what}\n${result.stdout}${result.stderr}`)
}

const packs = mkdtempSync(join(tmpdir(), 'shoal-check-packages-'))
try {
  const tarballs = execFileSync(process.execPath, [join(root, 'scripts', 'pack-all.mjs'), '--out', packs], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean)
  console.log(`ok    packed ${tarballs.length} libraries (manifests checked)`)

  for (const dir of packageDirs()) {
    const { name } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
    check(
      `publint ${name} (${relative(root, dir)})`,
      bin('publint'),
      ['--strict', '--pack', 'pnpm', dir],
      dir,
    )
  }
  for (const tarball of tarballs) {
    check(`attw ${relative(packs, tarball)}`, bin('attw'), ['--profile', 'esm-only', tarball], root)
  }
} finally {
  rmSync(packs, { recursive: true, force: true })
}
console.log(failures === 0 ? 'check:packages: all clean' : `check:packages: ${failures} failed`)
process.exit(failures === 0 ? 0 : 1)
