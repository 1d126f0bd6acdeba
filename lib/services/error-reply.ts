/**
 * The user properties of an error reply: how a responder (`serve.ts`) tells a requester (`requester.ts`) that
 * its handler failed. A module of their own, so that serving does not load the requester with them.
 */

/**
 * User property by which a reply says that the responder's handler failed; its value is the error's message.
 * @example `const failed = reply.properties?.userProperties?.[ERROR_PROPERTY] !== undefined`
 */
export const ERROR_PROPERTY = 'iotpubsub-error'
/**
 * User property of an error reply that carries the `name` of the responder's error (`RangeError`, ...).
 * @example `const remoteName = reply.properties?.userProperties?.[ERROR_NAME_PROPERTY] // 'RangeError'`
 */
export const ERROR_NAME_PROPERTY = 'iotpubsub-error-name'
