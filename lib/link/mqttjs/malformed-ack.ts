import type { MalformedAck } from '../link.js'

/** mqtt-packet's words for an acknowledgement whose reason code it does not accept. */
const INVALID_ACK = /^Invalid (puback|pubrec) reason code/
/** MQTT 5's reason codes for PUBACK and PUBREC (§3.4.2.1, §3.5.2.1). */
const VALID_CODES = new Set([0, 16, 128, 131, 135, 144, 145, 151, 153])
/** Fixed-header bytes of PUBACK and PUBREC. */
const HEADER = { puback: 0x40, pubrec: 0x50 } as const

/**
 * Which acknowledgement a parser error was about, and where the bytes still show it, its packet identifier
 * and reason code. Mosquitto answers a publish over `message_size_limit` with PUBACK 149, a code MQTT 5 does
 * not allow there and mqtt-packet refuses, dropping the packet: the bytes are the only place the code is.
 *
 * @example
 * ```ts
 * findMalformedAck('Invalid puback reason code', new Uint8Array([0x40, 3, 0, 7, 149])) // { cmd: 'puback', packetId: 7, reasonCode: 149 }
 * ```
 */
export function findMalformedAck(message: string, chunk: Uint8Array | undefined): MalformedAck | undefined {
  const match = INVALID_ACK.exec(message)
  if (!match) return undefined
  const cmd = match[1] as 'puback' | 'pubrec'
  if (chunk) {
    // The first acknowledgement of its kind with a code MQTT 5 does not allow: where the parser stopped.
    for (let i = 0; i + 4 < chunk.length; i++) {
      if (chunk[i] === HEADER[cmd] && (chunk[i + 1] as number) >= 3 && (chunk[i + 1] as number) < 128 && !VALID_CODES.has(chunk[i + 4] as number)) {
        const packetId = ((chunk[i + 2] as number) << 8) | (chunk[i + 3] as number)
        return { cmd, packetId, reasonCode: chunk[i + 4] as number }
      }
    }
  }
  return { cmd, packetId: undefined, reasonCode: undefined }
}
