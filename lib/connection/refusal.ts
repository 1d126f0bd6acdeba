import type { ProtocolVersion } from '../status.js'

/** CONNACK codes that mean "wrong or missing credentials": 3.1.1 return codes 4/5, MQTT 5 reason codes 134/135. */
const AUTH_CODES: Record<ProtocolVersion, readonly number[]> = { 4: [4, 5], 5: [134, 135] }
/** CONNACK codes worth retrying: server unavailable (3), MQTT 5 server unavailable/busy/connection rate exceeded. */
const TRANSIENT_CODES: Record<ProtocolVersion, readonly number[]> = { 4: [3], 5: [136, 137, 159] }
/** CONNACK codes by which a broker says it does not speak MQTT 5 (aedes answers 1 in the 3.1.1 format). */
const PROTOCOL_CODES = [1, 132]
/** Node's codes for a TLS handshake that failed on a certificate, which no retry can fix. */
const TLS_FAILURE = /^(ERR_TLS_CERT|ERR_SSL_|CERT_|UNABLE_TO_(GET|VERIFY)|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH)/

/** What a refused connection means for the next attempt. */
export type Refusal = 'unsupported-protocol' | 'credentials' | 'transient' | 'final'

/** Classifies a CONNACK refusal code under the protocol version the CONNECT used. */
export function classifyRefusal(code: number, protocol: ProtocolVersion): Refusal {
  if (protocol === 5 && PROTOCOL_CODES.includes(code)) return 'unsupported-protocol'
  if (AUTH_CODES[protocol].includes(code)) return 'credentials'
  if (TRANSIENT_CODES[protocol].includes(code)) return 'transient'
  return 'final'
}

/** Whether a socket error is a TLS certificate failure (the broker's certificate, or ours, was refused). */
export function isCertificateFailure(systemCode: unknown): systemCode is string {
  return typeof systemCode === 'string' && TLS_FAILURE.test(systemCode)
}
