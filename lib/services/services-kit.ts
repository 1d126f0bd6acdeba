import { Observable } from 'rxjs'
import { resolveCodec } from '../codec.js'
import { ClientClosedError, ConnectionLostError, DecodeError, InvalidTopicError, IotPubSubError, PublishError, QueueFullError, RequestTimeoutError, ResponderError, UnsupportedOptionError } from '../errors.js'
import { describeThrown } from '../errors/describe-thrown.js'
import { reshape } from '../inbound/delivered-message.js'
import { FORBIDDEN_CHARACTERS } from '../mqtt-string.js'

/**
 * What the services (`request()`, `serve()`, `route()`, loaded on demand: lib/services/on-demand.ts) use of the
 * client's own code, handed to them by the client rather than imported. esbuild gives every module that a
 * chunk loaded on demand shares with the entry a chunk of its own, which the page loads at start apart from
 * the entry (rxjs, the errors, the topic checks): bytes at start for an app that never loads them.
 *
 * @example
 * ```ts
 * const { observeRoute } = await import('./on-demand.js')
 * observeRoute(servicesKit, client, 'devices/{id}/temp', { codec: 'json' })
 * ```
 */
export const servicesKit = Object.freeze({
  Observable,
  resolveCodec,
  reshape,
  describeThrown,
  FORBIDDEN_CHARACTERS,
  ClientClosedError,
  ConnectionLostError,
  DecodeError,
  InvalidTopicError,
  IotPubSubError,
  PublishError,
  QueueFullError,
  RequestTimeoutError,
  ResponderError,
  UnsupportedOptionError,
})

export type ServicesKit = typeof servicesKit
