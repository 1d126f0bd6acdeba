/**
 * Summarises V8 CPU profiles written by `npm run bench -- --profile` (bench-results/profiles/*.cpuprofile):
 * self time by package/file and the top functions, so the SDK's share of a subscriber's time is visible.
 *
 *   npm run bench -- --only=tcp-qos0 --reps=1 --profile
 *   npx tsx bench/profile.ts [bench-results/profiles] [--match=sub-sdk] [--top=25]
 */
import { readdir, readFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { repoRoot } from './harness.js'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

/** Where a function lives: the SDK (lib/…), a package, node internals, or V8's own buckets. */
export function area(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)'
  const path = url.replace(/^file:\/\//, '')
  if (path.startsWith(join(repoRoot, 'lib'))) return `sdk ${relative(repoRoot, path)}`
  if (path.startsWith(join(repoRoot, 'bench'))) return `bench ${relative(repoRoot, path)}`
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)
  if (pkg) return `pkg ${pkg[1]}`
  if (path.startsWith('node:')) return 'node internals'
  return path
}

export async function summarise(file: string, top = 25): Promise<string> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0)
  const idle = [...self.entries()].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0)
  const busy = total - idle
  const areas = new Map<string, number>()
  const functions = new Map<string, number>()
  for (const [id, micros] of self) {
    const frame = byId.get(id)?.callFrame
    if (!frame || frame.functionName === '(idle)') continue
    const where = area(frame.url, frame.functionName)
    areas.set(where, (areas.get(where) ?? 0) + micros)
    const key = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`
    functions.set(key, (functions.get(key) ?? 0) + micros)
  }
  // Inclusive time of the SDK's own functions (lib/…): what each costs with everything it calls.
  const children = new Map(profile.nodes.map((n) => [n.id, n.children ?? []]))
  const inclusive = new Map<number, number>()
  const total_ = (id: number): number => {
    const known = inclusive.get(id)
    if (known !== undefined) return known
    let sum = self.get(id) ?? 0
    for (const child of children.get(id) ?? []) sum += total_(child)
    inclusive.set(id, sum)
    return sum
  }
  const sdkInclusive = new Map<string, number>()
  const visit = (id: number, inSdk: Set<string>): void => {
    const frame = byId.get(id)?.callFrame
    let entered = inSdk
    if (frame && area(frame.url, frame.functionName).startsWith('sdk ')) {
      const key = `${frame.functionName || '(anonymous)'} ${area(frame.url, frame.functionName).slice(4)}`
      // Count a function once per stack (outermost frame), so recursion is not double counted.
      if (!inSdk.has(key)) {
        sdkInclusive.set(key, (sdkInclusive.get(key) ?? 0) + total_(id))
        entered = new Set(inSdk).add(key)
      }
    }
    for (const child of children.get(id) ?? []) visit(child, entered)
  }
  const root = profile.nodes[0]
  if (root) visit(root.id, new Set())
  const pct = (micros: number): string => `${((100 * micros) / busy).toFixed(1).padStart(5)}%`
  const lines = [`${relative(process.cwd(), file)}: ${(busy / 1000).toFixed(0)} ms busy of ${(total / 1000).toFixed(0)} ms sampled`]
  lines.push('  self time by area:')
  for (const [where, micros] of [...areas].sort((a, b) => b[1] - a[1]).slice(0, 14)) lines.push(`    ${pct(micros)}  ${where}`)
  if (sdkInclusive.size) {
    lines.push('  SDK functions, inclusive time (with what they call):')
    for (const [key, micros] of [...sdkInclusive].sort((a, b) => b[1] - a[1]).slice(0, 12)) lines.push(`    ${pct(micros)}  ${key}`)
  }
  lines.push(`  top ${top} functions by self time:`)
  for (const [key, micros] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`    ${pct(micros)}  ${key}`)
  return lines.join('\n')
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const dir = args.find((a) => !a.startsWith('--')) ?? join(repoRoot, 'bench-results', 'profiles')
  const match = args.find((a) => a.startsWith('--match='))?.slice(8)
  const top = Number(args.find((a) => a.startsWith('--top='))?.slice(6) ?? 25)
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile') && (!match || f.includes(match))).sort()
  if (files.length === 0) throw new Error(`no .cpuprofile files in ${dir}: run npm run bench -- --profile first`)
  for (const file of files) console.log(`${await summarise(join(dir, file), top)}\n`)
}

await main()
