import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { filter } from 'rxjs'
import { describe, expect, it } from 'vitest'
import { startBroker } from '../../demo/broker.js'
import { startDemo } from '../../demo/run.js'
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
