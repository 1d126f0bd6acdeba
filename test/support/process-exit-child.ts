// A child process for exit.test.ts: runs one lifecycle scenario, ends the client, reports what is still
// active, then returns: the process must exit on its own (no timer or socket left behind by the SDK).
import { createServer, type Socket } from 'node:net'
import { once } from 'node:events'
import { connect, type ClientOptions, type Status } from '../../lib/node.js'
import { say } from './child-say.js'

const [scenario, link, brokerUrl] = process.argv.slice(2) as [string, 'lean' | 'mqttjs', string | undefined]

const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof Error ? e.name : String(e)),
  )

/** A TCP server in this process; `onSocket` decides what it does with each connection. */
async function server(onSocket: (s: Socket) => void) {
  const sockets = new Set<Socket>()
  let connections = 0
  const srv = createServer((s) => {
    connections += 1
    sockets.add(s)
    s.on('error', () => undefined)
    s.on('close', () => sockets.delete(s))
    onSocket(s)
  })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const port = (srv.address() as { port: number }).port
  return {
    url: `mqtt://127.0.0.1:${port}`,
    get connections() {
      return connections
    },
    async close() {
      for (const s of sockets) s.destroy()
      await new Promise((r) => srv.close(r))
    },
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`child: timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

const base: ClientOptions = { link, connectTimeout: 120_000, keepalive: 60, protocolVersion: 4 }

async function main(): Promise<void> {
  const statuses: Status[] = []
  let cleanup: () => Promise<void> = async () => undefined
  let extra = ''
  if (scenario === 'provider-pending') {
    let asked = 0
    const client = connect('mqtt://127.0.0.1:9', { ...base, credentials: () => { asked += 1; return new Promise(() => undefined) } })
    client.status$.subscribe((s) => statuses.push(s))
    await until(() => asked === 1, 'the provider to be asked')
    await client.end()
  } else if (scenario === 'withheld-connack') {
    const silent = await server(() => undefined)
    cleanup = () => silent.close()
    const client = connect(silent.url, base)
    client.status$.subscribe((s) => statuses.push(s))
    await until(() => silent.connections === 1, 'the TCP connection')
    await client.end()
  } else if (scenario === 'backoff-wait') {
    const gone = await server(() => undefined)
    const url = gone.url
    await gone.close()
    const client = connect(url, { ...base, reconnect: { initialDelay: 120_000, maxDelay: 120_000 } })
    client.status$.subscribe((s) => statuses.push(s))
    await until(() => statuses.some((s) => s.type === 'reconnecting'), 'reconnecting')
    await client.end()
  } else if (scenario === 'connected') {
    const client = connect(brokerUrl as string, base)
    client.status$.subscribe((s) => statuses.push(s))
    await until(() => statuses.some((s) => s.type === 'connected'), 'connected')
    await client.publish('lifecycle-exit/exit', 'x', { qos: 1 })
    await client.end()
  } else if (scenario === 'reconnect-false-drop') {
    // Accepts the CONNECT (3.1.1 CONNACK, accepted), then closes the socket a moment later.
    const dropper = await server((s) => {
      s.once('data', () => {
        s.write(Uint8Array.from([0x20, 0x02, 0x00, 0x00]))
        setTimeout(() => s.destroy(), 50)
      })
    })
    cleanup = () => dropper.close()
    const client = connect(dropper.url, { ...base, reconnect: false })
    client.status$.subscribe((s) => statuses.push(s))
    await until(() => statuses.some((s) => s.type === 'connected'), 'connected')
    const pub = outcome(client.publish('lifecycle-exit/x', 'x', { qos: 1 }))
    const connected = outcome(client.connected())
    await until(() => statuses.some((s) => s.type === 'closed'), 'closed')
    extra = ` publish=${await pub} connected=${await connected} connections=${dropper.connections}`
    // No end(): the client ended itself.
  } else if (scenario === 'refused-open' || scenario === 'refused-closed') {
    // Refuses the CONNECT (3.1.1 CONNACK 5, not authorized): a fatal refusal. The socket is left open for the
    // client to close, or closed right after (as Mosquitto does).
    const refuser = await server((s) => {
      s.once('data', () => {
        s.write(Uint8Array.from([0x20, 0x02, 0x00, 0x05]))
        if (scenario === 'refused-closed') s.end()
      })
    })
    cleanup = () => refuser.close()
    const client = connect(refuser.url, { ...base, username: 'u', password: 'wrong' })
    client.status$.subscribe((s) => statuses.push(s))
    await until(() => statuses.some((s) => s.type === 'closed'), 'closed')
  } else if (scenario === 'timeout-no-reconnect') {
    const silent = await server(() => undefined)
    cleanup = () => silent.close()
    const client = connect(silent.url, { ...base, connectTimeout: 300, reconnect: false })
    client.status$.subscribe((s) => statuses.push(s))
    await until(() => statuses.some((s) => s.type === 'closed'), 'closed')
  } else if (scenario === 'provider-late-answer') {
    let answer: ((c: { username: string }) => void) | undefined
    const client = connect('mqtt://127.0.0.1:9', { ...base, credentials: () => new Promise((r) => (answer = r)) })
    client.status$.subscribe((s) => statuses.push(s))
    await until(() => answer !== undefined, 'the provider to be asked')
    await client.end()
    answer?.({ username: 'late' })
  } else {
    throw new Error(`unknown scenario ${scenario}`)
  }
  await cleanup()
  // Let close handlers run before looking.
  await new Promise((r) => setImmediate(r))
  await new Promise((r) => setTimeout(r, 20))
  say(`ENDED ${statuses.map((s) => s.type).join(',')}${extra}`)
  say(`ACTIVE ${JSON.stringify(process.getActiveResourcesInfo())}`)
}

main().catch((error: unknown) => {
  say(`FAILED ${error instanceof Error ? error.stack : String(error)}`)
  process.exitCode = 1
})
