export { isPublicAddress, type Resolver, type ResolvedAddress } from './address-guard.js';
export {
  createEndpoint, deleteEndpoint, getEndpoint, listEndpoints, presentEndpoint, replayEndpoint, rotateSecret, updateEndpoint, ROTATION_OVERLAP_HOURS,
  type EndpointInput, type EndpointRow,
} from './endpoints.js';
export { attemptDelivery, listEventDeliveries, presentDelivery, recoverDeliveries, redeliverEvent, useWebhookResolver, webhookBody } from './delivery.js';
export { MAX_ATTEMPTS, nextRetryDelayMs, parseRetryAfter, RETRY_DELAYS_MS } from './schedule.js';
export { generateSecret, signPayload, webhookHeaders } from './signature.js';
export { WEBHOOK_DELIVERY_TASK } from '../events/index.js';
