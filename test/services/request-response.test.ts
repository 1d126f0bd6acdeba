// MQTT 5 request/response: client.request() and client.serve().
import { describe, expect, it } from 'vitest'
import { ClientClosedError, PayloadTooLargeError, RequestTimeoutError, ResponderError, UnsupportedOptionError } from '../../lib/node.js'
import { sharedBed } from '../support/bed.js'
import { noMosquitto } from '../support/binaries.js'
import { waitForStatus } from '../support/clients.js'
import { uniquePrefix } from '../support/wait.js'

describe.skipIf(noMosquitto())('request/response', () => {
  const bed = sharedBed('rpc')
  const pool = bed.pool
  const served = (clientId: string, filter: string) => bed.broker.waitForSubscription(clientId, filter, 1)

  it('1,000 requests in flight at once, every reply matched to its request', async () => {
    const p = uniquePrefix('concurrent')
    const server = await pool.connected(bed.broker.tcpUrl)
    server.serve<{ n: number }>(`${p}/square`, (request) => ({ n: request.payload.n, square: request.payload.n ** 2 }), { codec: 'json' })
    await served(server.clientId, `${p}/square`)
    const client = await pool.connected(bed.broker.tcpUrl)
    const replies = await Promise.all(
      Array.from({ length: 1_000 }, (_, n) => client.request<{ n: number; square: number }>(`${p}/square`, { n }, { codec: 'json', timeout: 30_000 })),
    )
    expect(replies.map((r) => r.payload)).toEqual(Array.from({ length: 1_000 }, (_, n) => ({ n, square: n * n })))
  }, 60_000)

  it('no responder: RequestTimeoutError after the timeout', async () => {
    const client = await pool.connected(bed.broker.tcpUrl)
    await expect(client.request(`${uniquePrefix('nobody')}/x`, 'ping', { timeout: 300 })).rejects.toBeInstanceOf(RequestTimeoutError)
  })

  it('a handler that throws: the requester gets a ResponderError with its message and name', async () => {
    const p = uniquePrefix('failing')
    const server = await pool.connected(bed.broker.tcpUrl)
    server.serve(`${p}/x`, () => {
      throw new RangeError('value out of range')
    })
    await served(server.clientId, `${p}/x`)
    const client = await pool.connected(bed.broker.tcpUrl)
    const error = await client.request(`${p}/x`, 'x').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ResponderError)
    expect(error).toMatchObject({ name: 'ResponderError', message: 'value out of range', remoteName: 'RangeError' })
  })

  it('a handler error whose message has newlines or a NUL still comes back as a ResponderError (an MQTT string cannot carry them)', async () => {
    const p = uniquePrefix('multiline')
    const server = await pool.connected(bed.broker.tcpUrl)
    server.serve(`${p}/x`, () => {
      throw new Error('first line\nsecond\u0000line')
    })
    await served(server.clientId, `${p}/x`)
    const client = await pool.connected(bed.broker.tcpUrl)
    const error = await client.request(`${p}/x`, 'x', { timeout: 5_000 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ResponderError)
    expect(error).toMatchObject({ message: 'first line second line' })
  })

  it('two responders in a shared group split the requests, each answered once', async () => {
    const p = uniquePrefix('group')
    const filter = `$share/workers/${p}/work`
    const [a, b] = [await pool.connected(bed.broker.tcpUrl), await pool.connected(bed.broker.tcpUrl)]
    a.serve(filter, () => 'a')
    b.serve(filter, () => 'b')
    await served(a.clientId, filter)
    await served(b.clientId, filter)
    const client = await pool.connected(bed.broker.tcpUrl)
    const answers = await Promise.all(Array.from({ length: 20 }, () => client.request(`${p}/work`, 'job', { codec: 'text' })))
    const by = answers.map((r) => r.payload)
    expect(by.length).toBe(20)
    expect(by.filter((x) => x === 'a').length).toBeGreaterThan(0)
    expect(by.filter((x) => x === 'b').length).toBeGreaterThan(0)
  })

  it('end() settles every pending request with ClientClosedError', async () => {
    const client = await pool.connected(bed.broker.tcpUrl)
    const pending = client.request(`${uniquePrefix('ending')}/x`, 'x', { timeout: 30_000 }).catch((e: unknown) => e)
    await client.end()
    expect(await pending).toBeInstanceOf(ClientClosedError)
  })

  it('a request made right after connect(), before the CONNACK, goes out once the reply subscription is confirmed', async () => {
    const p = uniquePrefix('early')
    const server = await pool.connected(bed.broker.tcpUrl)
    server.serve(`${p}/echo`, (request) => request.raw, { codec: 'bytes' })
    await served(server.clientId, `${p}/echo`)
    const client = pool.connect(bed.broker.tcpUrl)
    const reply = await client.request(`${p}/echo`, 'hello', { codec: 'text', timeout: 5_000 })
    expect(reply.payload).toBe('hello')
  })

  it('unsubscribing from serve() stops answering and runs its teardowns; requests then time out', async () => {
    const p = uniquePrefix('stop')
    const server = await pool.connected(bed.broker.tcpUrl)
    const serving = server.serve(`${p}/x`, () => 'on')
    const stopped = new Promise<void>((resolve) => serving.add(resolve))
    await served(server.clientId, `${p}/x`)
    const client = await pool.connected(bed.broker.tcpUrl)
    expect((await client.request(`${p}/x`, 'x', { codec: 'text' })).payload).toBe('on')
    serving.unsubscribe()
    await stopped
    await bed.broker.waitForLog(new RegExp(`Received UNSUBSCRIBE from ${server.clientId}$`, 'm'))
    await expect(client.request(`${p}/x`, 'x', { timeout: 300 })).rejects.toBeInstanceOf(RequestTimeoutError)
  })

  it('a request the client cannot publish rejects with the publish error (PayloadTooLargeError), not a timeout', async () => {
    const client = await pool.connected(bed.broker.tcpUrl, { maxPacketSize: 1_000 })
    await expect(client.request(`${uniquePrefix('big')}/x`, new Uint8Array(2_000), { timeout: 5_000 })).rejects.toBeInstanceOf(PayloadTooLargeError)
  })

  it('a result the responder cannot encode comes back as an error reply (ResponderError), not a timeout', async () => {
    const p = uniquePrefix('unencodable')
    const server = await pool.connected(bed.broker.tcpUrl)
    server.serve(`${p}/x`, () => ({ big: 1n }))
    await served(server.clientId, `${p}/x`)
    const client = await pool.connected(bed.broker.tcpUrl)
    const error = await client.request(`${p}/x`, 'x', { timeout: 5_000 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ResponderError)
    expect(error).toMatchObject({ remoteName: 'PublishError' })
  })

  it('request() after end() rejects with ClientClosedError', async () => {
    const client = await pool.connected(bed.broker.tcpUrl)
    await client.request(`${uniquePrefix('closed')}/x`, 'x', { timeout: 50 }).catch(() => undefined) // makes the requester
    await client.end()
    await waitForStatus(client, 'closed')
    await expect(client.request(`${uniquePrefix('closed')}/x`, 'x')).rejects.toBeInstanceOf(ClientClosedError)
  })

  it('under MQTT 3.1.1 request() says it needs MQTT 5', async () => {
    const client = await pool.connected(bed.broker.tcpUrl, { protocolVersion: 4 })
    await expect(client.request(`${uniquePrefix('v4')}/x`, 'x')).rejects.toBeInstanceOf(UnsupportedOptionError)
  })
})
