import type { SubscriptionRow } from '../storage/tables.js';

/**
 * A subscription as Graph's JSON (graph-meeting-artifacts-spec.md §3.1), in the documented order. List
 * answers clientState as null "for security purposes" (§3.1); create, get and update echo it.
 */
export function subscriptionJson(row: SubscriptionRow, options: { hideClientState?: boolean } = {}): Record<string, unknown> {
  return {
    id: row.id,
    resource: row.resource,
    applicationId: row.application_id,
    changeType: row.change_type,
    clientState: options.hideClientState ? null : row.client_state,
    notificationUrl: row.notification_url,
    notificationQueryOptions: row.notification_query_options,
    lifecycleNotificationUrl: row.lifecycle_notification_url,
    expirationDateTime: row.expiration_date_time,
    creatorId: row.creator_id,
    includeResourceData: row.include_resource_data === 1,
    latestSupportedTlsVersion: row.latest_supported_tls_version,
    encryptionCertificate: row.encryption_certificate,
    encryptionCertificateId: row.encryption_certificate_id,
    notificationUrlAppId: row.notification_url_app_id,
  };
}
