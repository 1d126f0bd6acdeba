// Clusters (`url: [a, b, c]`) and the connection lifecycle: nodes down, refusing, or accepting then dropping.
// docs/guide/client.md: "each reconnect attempt moves on to the next node, with the same backoff ...; status$
// names the node (url)"; the reconnecting status's `url` is "the one the next attempt goes to"
// (Connection.url), which test/integration/cluster-features.test.ts checks without a credentials provider.
import { createServer } from 'node:net'
import { once } from 'node:events'
import { describe, expect, it } from 'vitest'
import { ClientIdConflictError, ConnectionRefusedError, NotAuthorizedError, type ReconnectingStatus, type Status } from '../../lib/node.js'
import { testBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { scriptedBed, type ScriptedBroker } from '../support/scripted-broker.js'
import { uniquePrefix, waitFor } from '../support/wait.js'

/** A URL where nothing listens (a port just freed). */
async function deadUrl(): Promise<string> {
  const srv = createServer()
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const { port } = srv.address() as { port: number }
  await new Promise((r) => srv.close(r))
  return `mqtt://127.0.0.1:${port}`
}

const connects = (b: ScriptedBroker): number => b.received.filter((r) => r.packet.cmd === 'connect').length

describe.skipIf(noMosquitto())('cluster lifecycle', () => {
  const bed = testBed('lifecycle-cluster')
  const scripted = scriptedBed('lifecycle-cluster')

  it('nodes tried in order: down, refusing (server unavailable), live; status$ names each next node; one CONNECT to the refusing one', async () => {
    const down = await deadUrl()
    const refusing = await scripted.broker(5, (conn, packet) => {
      if (packet.cmd === 'connect') conn.send({ cmd: 'connack', sessionPresent: false, reasonCode: 136 })
    })
    const live = await bed.broker()
    const client = bed.pool.connect([down, refusing.url, live.tcpUrl], { reconnect: { initialDelay: 20, maxDelay: 50 } })
    const statuses: Status[] = []
    client.status$.subscribe((s) => statuses.push(s))
    await waitForStatus(client, 'connected')
    expect(statuses.map((s) => `${s.type} ${'url' in s ? s.url : ''}`)).toEqual([
      `connecting ${down}`,
      `reconnecting ${refusing.url}`,
      `reconnecting ${live.tcpUrl}`,
      `connected ${live.tcpUrl}`,
    ])
    expect((statuses[2] as ReconnectingStatus).error).toBeInstanceOf(ConnectionRefusedError)
    expect((statuses[2] as ReconnectingStatus).error.reasonCode).toBe(136)
    expect(connects(refusing)).toBe(1)
    expect(client.url).toBe(live.tcpUrl)
    const topic = `${uniquePrefix('lc-cluster')}/x`
    await client.publish(topic, 'x', { qos: 1 })
  })

  it('every node closes right after CONNACK: one CONNECT per reconnecting status, round robin, attempts keep growing (no tight loop)', async () => {
    const script = (conn: Parameters<Parameters<typeof scripted.broker>[1]>[0], packet: Record<string, any>): void => {
      if (packet.cmd !== 'connect') return
      conn.send({ cmd: 'connack', sessionPresent: false, reasonCode: 0 })
      setImmediate(() => conn.socket.destroy())
    }
    const nodes = [await scripted.broker(5, script), await scripted.broker(5, script), await scripted.broker(5, script)]
    const policy = { initialDelay: 40, maxDelay: 160 }
    const client = scripted.client(nodes.map((n) => n.url), { reconnect: policy, protocolVersion: 'auto' })
    const seen: { status: Status; connects: number[] }[] = []
    client.status$.subscribe((s) => seen.push({ status: s, connects: nodes.map(connects) }))
    const reconnecting = () => seen.filter((e) => e.status.type === 'reconnecting')
    await waitFor(() => reconnecting().length >= 9, 'nine reconnecting statuses', 20_000)
    const nine = reconnecting().slice(0, 9)
    // At the k-th reconnecting status, exactly k CONNECTs were made in all: no attempt went without a backoff.
    expect(nine.map((e) => e.connects.reduce((a, b) => a + b, 0))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
    // Round robin: a, b, c, a, b, c, ...; each status names the node the next attempt goes to.
    expect(nine.map((e) => (e.status as ReconnectingStatus).url)).toEqual([1, 2, 0, 1, 2, 0, 1, 2, 0].map((i) => nodes[i]?.url))
    expect(nine.map((e) => (e.status as ReconnectingStatus).attempt)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
    for (const e of nine) {
      const s = e.status as ReconnectingStatus
      const ceiling = Math.min(policy.maxDelay, policy.initialDelay * 2 ** (s.attempt - 1))
      expect(s.delay).toBeGreaterThanOrEqual(ceiling / 2)
    }
    // The third short connection in a row is named a client-id conflict (docs/guide/delivery.md).
    expect((nine[2]?.status as ReconnectingStatus).error).toBeInstanceOf(ClientIdConflictError)
  })

  it('with a credentials provider (no url of its own), the reconnecting status still names the next node, as without one', async () => {
    const [a, b] = [await bed.broker(), await bed.broker()]
    const proxyA = await bed.proxy(a)
    const client = bed.pool.connect([proxyA.url, b.tcpUrl], {
      reconnect: { initialDelay: 20, maxDelay: 50 },
      credentials: async () => ({ username: 'lc', password: 'secret' }),
    })
    const statuses: Status[] = []
    client.status$.subscribe((s) => statuses.push(s))
    await waitForStatus(client, 'connected')
    expect(client.url).toBe(proxyA.url)
    proxyA.cut()
    await waitFor(() => statuses.filter((s) => s.type === 'connected').length === 2, 'the failover to node b')
    const failover = statuses.find((s) => s.type === 'reconnecting')
    // The attempt really goes to b ...
    expect(statuses.at(-1)).toMatchObject({ type: 'connected', url: b.tcpUrl })
    expect(client.url).toBe(b.tcpUrl)
    // ... but does the status say so?
    expect(failover).toMatchObject({ type: 'reconnecting', url: b.tcpUrl, attempt: 1 })
  })

  // docs/guide/connecting.md: "retried with backoff as long as the provider returns something new (another URL,
  // query included, other headers, another user or password); the same refused answer twice ends the client
  // with NotAuthorizedError". docs/guide/delivery.md: "as long as the provider returns credentials different
  // from the ones just refused".
  it('a provider returning the same refused credentials on a 2-node cluster: NotAuthorizedError after the second refusal', async () => {
    const refuse = (conn: Parameters<Parameters<typeof scripted.broker>[1]>[0], packet: Record<string, any>): void => {
      if (packet.cmd === 'connect') conn.send({ cmd: 'connack', sessionPresent: false, reasonCode: 135 })
    }
    const nodes = [await scripted.broker(5, refuse), await scripted.broker(5, refuse)]
    let asked = 0
    const client = scripted.client(nodes.map((n) => n.url), {
      reconnect: { initialDelay: 20, maxDelay: 40 },
      credentials: () => {
        asked += 1
        return { username: 'sensor', password: 'wrong' }
      },
    })
    const statuses: Status[] = []
    client.status$.subscribe((s) => statuses.push(s))
    const total = (): number => nodes.map(connects).reduce((a, b) => a + b, 0)
    // Either the client ends, or it has gone on well past the documented second refusal.
    await waitFor(() => statuses.at(-1)?.type === 'closed' || total() >= 6, 'the end of the client, or six refused CONNECTs')
    process.stdout.write(`same refused credentials on a cluster: ${total()} CONNECTs, asked ${asked}, last status ${statuses.at(-1)?.type}\n`)
    expect(statuses.at(-1)?.type).toBe('closed')
    expect(statuses.at(-1)).toMatchObject({ error: expect.any(NotAuthorizedError) })
    expect(total()).toBe(2)
  })
})
