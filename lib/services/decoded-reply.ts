import type { Message } from '../message.js'
import type { Requester, RequestOptions } from './requester.js'
import type { ServicesKit } from './services-kit.js'

/**
 * A request through `requester`, its reply decoded by the request's codec (`DecodeError` when it cannot be).
 * `calledAt`: when `request()` was called, if that was before the requester was loaded (its deadline counts from then).
 *
 * @example
 * ```ts
 * const reply = await decodedReply(servicesKit, requester, 'devices/d1/rpc/status', '', { codec: 'json', timeout: 2_000 })
 * ```
 */
export async function decodedReply<T>(kit: ServicesKit, requester: Requester, topic: string, payload: unknown, options: RequestOptions<T>, calledAt?: number): Promise<Message<T>> {
  const reply = await requester.request(topic, payload, { timeout: options.timeout, qos: options.qos, calledAt })
  let decoded: T
  try {
    decoded = kit.resolveCodec<T>(options.codec).decode(reply.raw)
  } catch (error) {
    throw new kit.DecodeError(reply.topic, reply.raw, error)
  }
  return kit.reshape(reply, decoded, reply.params)
}
