// pnpm hooks for packing only: scripts/pack-all.mjs runs `pnpm --config.pnpmfile=<this file> pack`.
// `beforePacking` (pnpm >= 10.28) changes the packed package.json, never the one in the repository.
//
// Why: a packed library names its Shoal siblings as plain dependencies (`"@shoal/schema": "0.1.0"`,
// pnpm's replacement for `workspace:*`). A project that installs the tarballs together
// (`pnpm add ./shoal-schema-0.1.0.tgz ./shoal-transport-0.1.0.tgz`) then fails under pnpm: it looks
// `@shoal/schema@0.1.0` up in the registry for @shoal/transport, although the project itself
// provides it. Naming each sibling also as a peer dependency, at the same exact version, makes pnpm
// (and npm) take the project's own copy: one @shoal/schema per project, whose registry and message
// types every Shoal package shares.
//
// Not in the repository's manifests: changesets bumps a dependent's major version on any minor
// release of a package it names as a peer. Not a root .pnpmfile.cjs: pnpm would record its checksum
// in pnpm-lock.yaml, and `turbo prune` (the Dockerfiles) copies the lockfile but not the pnpmfile, so
// `pnpm install --frozen-lockfile` there would refuse to run.
const SHOAL_SCOPE = '@shoal/'

module.exports = {
  hooks: {
    beforePacking(pkg) {
      if (!pkg.name?.startsWith(SHOAL_SCOPE)) return pkg
      const siblings = Object.entries(pkg.dependencies ?? {}).filter(([name]) => name.startsWith(SHOAL_SCOPE))
      if (siblings.length === 0) return pkg
      pkg.peerDependencies = { ...pkg.peerDependencies, ...Object.fromEntries(siblings) }
      return pkg
    },
  },
}
