import { spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { fileURLToPath } from 'node:url'
import { filter } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { startBroker } from '../../demo/broker.js'
import { portNote, startDemo } from '../../demo/run.js'
import { connect } from '../../lib/node.js'
import { freePort } from '../support/ports.js'
import { collect, waitFor } from '../support/wait.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** True when nothing listens on `port` any more. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
  })
}

function groupIsGone(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return false
  } catch {
    return true
  }
}

interface Proc {
  pid: number
  ppid: number
  command: string
}

/**
 * The live processes of session `sid` (Linux /proc): whatever npm, node or esbuild leaves behind keeps the
 * session id even when orphaned to init or moved to another process group. Zombies are dead already.
 */
function sessionProcesses(sid: number): Proc[] {
  const found: Proc[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // pid (comm) state ppid pgrp session ...: comm may hold spaces and parentheses, so split after the last ')'.
      const [state, ppid, , session] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(session) !== sid || state === 'Z') continue
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim()
      found.push({ pid: Number(entry), ppid: Number(ppid), command })
    } catch {
      // the process exited while being read
    }
  }
  return found
}

/** `npm run demo` in a session of its own (as under a terminal or a process manager) on free ports. */
async function startNpmDemo() {
  const ports = { tcp: await freePort(), ws: await freePort(), web: await freePort() }
  const child = spawn('npm', ['run', 'demo'], {
    cwd: root,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DEMO_TCP_PORT: String(ports.tcp), DEMO_WS_PORT: String(ports.ws), DEMO_PORT: String(ports.web), MQTT_URL: '' },
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  // 'close': npm has exited and every process that held its stdout (node) too.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
  const sid = child.pid as number
  const kill = () => {
    for (const p of sessionProcesses(sid)) process.kill(p.pid, 'SIGKILL')
  }
  return { child, ports, sid, closed, output: () => output, kill }
}

describe('npm run demo', () => {
  it('starts broker, simulator and page with one command, and Ctrl-C stops all of them', async () => {
    const [tcpPort, wsPort, webPort] = [await freePort(), await freePort(), await freePort()]
    // Its own process group, as in a terminal, where Ctrl-C signals npm, tsx and node together.
    const child = spawn('npm', ['run', 'demo'], {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEMO_TCP_PORT: String(tcpPort), DEMO_WS_PORT: String(wsPort), DEMO_PORT: String(webPort), MQTT_URL: '' },
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`)))
    let watcher: ReturnType<typeof connect> | undefined
    try {
      const pageUrl = (await waitFor(() => /Dashboard: (http\S+)/.exec(output)?.[1], 'the printed page URL', 45_000)) as string
      watcher = connect(`mqtt://127.0.0.1:${tcpPort}`, { reconnect: false })
      expect(pageUrl).toBe(`http://localhost:${webPort}/`)
      expect(output).toContain(`mqtt://127.0.0.1:${tcpPort} and ws://127.0.0.1:${wsPort}`)

      // (The page itself is loaded by the browser test. Here a page load would keep Vite busy transforming
      // modules at the moment of the Ctrl-C, and the tsx CLI SIGKILLs a child that does not acknowledge a
      // signal within 60 ms: see the note in demo/README.md.)
      const config = (await (await fetch(new URL('demo-config.json', pageUrl))).json()) as Record<string, unknown>
      expect(config).toMatchObject({ url: `ws://127.0.0.1:${wsPort}`, prefix: 'demo', simulator: true })

      // One observer for the whole test (a second one could miss a message while its SUBSCRIBE is on the way).
      const statuses: string[] = []
      watcher.observe('demo/devices/kitchen/status', { codec: 'text' }).subscribe({ next: (m) => statuses.push(m.payload), error: () => {} })
      await waitFor(() => statuses.includes('online'), 'kitchen online')

      process.kill(-(child.pid as number), 'SIGINT')
      // npm itself may end by the SIGINT (as in a terminal); the demo under it stops cleanly and says so.
      expect(['code 0', 'SIGINT']).toContain(await exited)
      await waitFor(() => output.includes('Stopped.'), 'the demo to stop', 15_000).catch((error: Error) => {
        throw new Error(`${error.message}; its output:\n${output}`)
      })
      await waitFor(() => groupIsGone(child.pid as number), 'every process of the demo to exit', 15_000)
      expect(statuses.at(-1)).toBe('offline') // the simulator said goodbye before the broker went
      for (const port of [tcpPort, wsPort, webPort]) expect(await portIsFree(port)).toBe(true)
    } finally {
      await watcher?.end({ force: true })
      if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid as number), 'SIGKILL')
    }
  }, 90_000)

  // What a terminal (SIGINT, SIGHUP when closed) or a process manager (SIGTERM) sends, to npm alone or to
  // the demo's node alone: npm relays SIGINT and SIGTERM, a SIGHUP ends npm and orphans node.
  it.each([
    ['SIGINT', 'npm'],
    ['SIGINT', 'node'],
    ['SIGTERM', 'npm'],
    ['SIGTERM', 'node'],
    ['SIGHUP', 'npm'],
    ['SIGHUP', 'node'],
  ] as const)('%s to %s stops every process of the demo (esbuild included) and frees every port', async (signal, target) => {
    const demo = await startNpmDemo()
    try {
      await waitFor(() => demo.output().includes('Dashboard:'), 'the printed page URL', 45_000).catch((error: Error) => {
        throw new Error(`${error.message}; its output:\n${demo.output()}`)
      })
      const before = sessionProcesses(demo.sid)
      const node = before.find((p) => p.ppid === demo.sid && /^(\S*\/)?node .*demo\/run\.ts/.test(p.command))
      // npm execs node: no shell in between that would swallow npm's relayed signal.
      expect(node, before.map((p) => p.command).join('\n')).toBeDefined()
      expect(before.some((p) => /esbuild/.test(p.command))).toBe(true)
      process.kill(target === 'npm' ? demo.sid : (node as Proc).pid, signal)

      await waitFor(() => sessionProcesses(demo.sid).length === 0, 'every process of the demo to exit', 15_000).catch((error: Error) => {
        const left = sessionProcesses(demo.sid).map((p) => `${p.pid} ${p.command}`)
        throw new Error(`${error.message}; still running:\n${left.join('\n')}\nits output:\n${demo.output()}`)
      })
      await demo.closed
      expect(demo.output()).toMatch(target === 'npm' && signal === 'SIGHUP' ? /the parent process \(pid \d+\) exited: stopping/ : new RegExp(`${signal}: stopping`))
      expect(demo.output()).toContain('Stopped.')
      for (const port of Object.values(demo.ports)) expect(await portIsFree(port), `port ${port}`).toBe(true)
    } finally {
      demo.kill()
    }
  }, 60_000)

  it('says why it uses another port when a preferred one is taken', async () => {
    expect(portNote(1883, 41234, 'MQTT over TCP', 'mosquitto on this machine?')).toBe('port 1883 is taken (mosquitto on this machine?), using 41234 for MQTT over TCP')
    expect(portNote(1883, 1883, 'MQTT over TCP')).toBeUndefined()
    // Held on every interface (IPv4 and IPv6), so neither the broker's 127.0.0.1 nor Vite's localhost gets it.
    const taken = [await freePort(), await freePort(), await freePort()]
    const holders: Server[] = []
    for (const port of taken) {
      const holder = createServer()
      await new Promise<void>((resolve) => holder.listen(port, resolve))
      holders.push(holder)
    }
    const lines: string[] = []
    let stack: Awaited<ReturnType<typeof startDemo>> | undefined
    try {
      const [tcpPort, wsPort, webPort] = taken as [number, number, number]
      stack = await startDemo({ tcpPort, wsPort, webPort, simulator: false, log: (l) => lines.push(l) })
      const broker = stack.broker!
      const page = Number(new URL(stack.pageUrl).port)
      expect(lines).toEqual(
        expect.arrayContaining([
          `port ${tcpPort} is taken, using ${broker.tcpPort} for MQTT over TCP`,
          `port ${wsPort} is taken, using ${broker.wsPort} for MQTT over WebSocket`,
          `port ${webPort} is taken, using ${page} for the page`,
        ]),
      )
      for (const [i, port] of [broker.tcpPort, broker.wsPort, page].entries()) expect(port).not.toBe(taken[i])
    } finally {
      await stack?.stop()
      for (const holder of holders) await new Promise<void>((resolve) => holder.close(() => resolve()))
    }
  }, 30_000)

  it('uses an existing broker given as MQTT_URL (and MQTT_TCP_URL for the simulator) instead of its own', async () => {
    const existing = await startBroker({ tcpPort: 0, wsPort: 0 })
    const lines: string[] = []
    const stack = await startDemo({ mqttUrl: existing.wsUrl, mqttTcpUrl: existing.tcpUrl, webPort: await freePort(), log: (l) => lines.push(l) })
    const client = connect(existing.wsUrl)
    try {
      expect(stack.broker).toBeUndefined()
      expect(lines[0]).toBe(`Using the broker at ${existing.wsUrl} (simulator: ${existing.tcpUrl})`)
      const config = (await (await fetch(new URL('demo-config.json', stack.pageUrl))).json()) as Record<string, unknown>
      expect(config.url).toBe(existing.wsUrl)
      const statuses = await collect(client.observe('demo/devices/+/status', { codec: 'text' }).pipe(filter((m) => m.payload === 'online')), 6, 'devices online on the existing broker')
      expect(statuses).toHaveLength(6)
    } finally {
      await client.end({ force: true })
      await stack.stop()
      await existing.close()
    }
  })

  it('keeps the page up without a simulator when the existing broker has no TCP listener to reach', async () => {
    const existing = await startBroker({ tcpPort: 0, wsPort: 0 })
    const unused = await freePort()
    const lines: string[] = []
    const stack = await startDemo({ mqttUrl: existing.wsUrl, mqttTcpUrl: `mqtt://127.0.0.1:${unused}`, webPort: await freePort(), log: (l) => lines.push(l) })
    try {
      expect(stack.simulator).toBeUndefined()
      expect(lines.some((l) => l.startsWith('Simulator not started:'))).toBe(true)
      const config = (await (await fetch(new URL('demo-config.json', stack.pageUrl))).json()) as Record<string, unknown>
      expect(config.simulator).toBe(false)
    } finally {
      await stack.stop()
      await existing.close()
    }
  }, 30_000)
})
