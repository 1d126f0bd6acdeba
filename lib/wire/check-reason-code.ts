/**
 * The reason codes MQTT defines for each packet a broker sends (MQTT 5 chapter 3, each packet's reason code
 * table; MQTT 3.1.1 3.2.2.3 and 3.9.3). A code outside its packet's table is a malformed packet (0x81): the
 * receiver cannot know what the sender meant by it, so it must not guess (a success, a failure, a QoS).
 *
 * The tables are in one string, small enough for the browser bundle: the character for code c, less 48, is the
 * set of packets that allow c (one bit each, the constants below); codes past its end are allowed nowhere. The
 * tables are written out as lists in test/unit/wire-random.ts, and wire-malformed.test.ts checks every code of
 * every packet against them. Two choices beyond the specification's tables:
 * - PUBACK and PUBREC take 0x95 Packet too large: Mosquitto answers a message over its `message_size_limit`
 *   with it. It is a refusal (>= 0x80) the publisher can report, where closing the connection would make the
 *   client resend the same message after every reconnect.
 * - DISCONNECT takes 0x8C Bad authentication method (a failed re-authentication), which the reason code table
 *   (2.4) allows there though the DISCONNECT table (3.14.2.1) leaves it out.
 */
import { malformed } from './malformed-packet.js'

const TABLE =
  'o4400000000000001800000000000000' +
  '0'.repeat(96) +
  'm``m@@@m@`@P`PP\\a=2PPaPePa````T`PTT'

// The packets a table is for (MQTT 5; 3.1.1 has its own rules in `checkReasonCode`), one bit each.
/** PUBACK and PUBREC (3.4.2.1, 3.5.2.1). */
export const PUBACK_CODES = 1
/** PUBREL and PUBCOMP (3.6.2.1, 3.7.2.1). */
export const PUBREL_CODES = 2
/** SUBACK (3.9.3). */
export const SUBACK_CODES = 4
/** UNSUBACK (3.11.3). */
export const UNSUBACK_CODES = 8
/** CONNACK (3.2.2.2). */
export const CONNACK_CODES = 16
/** DISCONNECT from a server (3.14.2.1: sent by "Server" or "Client or Server"). */
export const SERVER_DISCONNECT_CODES = 32
/** AUTH (3.15.2.1): 0x00, 0x18, 0x19, outside the string. */
export const AUTH_CODES = 64

/**
 * Throws MalformedPacketError (0x81) unless MQTT defines `code` for the packet: at level 5 by its table, at
 * level 4 a CONNACK takes 0 to 5 and a SUBACK 0, 1, 2 and 0x80.
 *
 * @example
 * ```ts
 * checkReasonCode(0x11, PUBACK_CODES, true) // throws: 0x11 is an UNSUBACK code
 * ```
 */
export function checkReasonCode(code: number, packet: number, v5: boolean): void {
  const ok = !v5
    ? packet === CONNACK_CODES
      ? code <= 5
      : code <= 2 || code === 0x80
    : packet === AUTH_CODES
      ? code === 0 || code === 0x18 || code === 0x19
      : ((TABLE.charCodeAt(code) - 48) & packet) !== 0
  if (!ok) malformed(`reason code ${code} undefined for the packet`)
}
