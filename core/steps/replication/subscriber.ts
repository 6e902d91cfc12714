/**
 * How the subscription reaches the source: the TLS settings of its connection, in the target server's terms
 * ({@link subscriptionTls}).
 */
import type { Request } from '../../request.js';
import type { TlsSettings } from '../../tls.js';
import type { SubscriptionTls } from './sql.js';

/**
 * Pure: the TLS settings of the subscription's connection. The target server opens it, so a file on this machine
 * means nothing there: the CA comes from `subscriptionSslrootcert` (a path on the target server, or `system`).
 * Without one, a source connection that verifies the certificate (verify-ca / verify-full) gives a subscription
 * that only encrypts (`require`), and `weakened` says so (the `credential-exposure` check warns).
 * `channel_binding=require` carries over: it needs no file.
 */
export function subscriptionTls(
  source: TlsSettings,
  request: Pick<Request, 'subscriptionSslmode' | 'subscriptionSslrootcert'>,
): SubscriptionTls & { readonly weakened?: string } {
  const channelBinding = source.channelBinding === 'require' ? { channelBinding: 'require' as const } : {};
  const rootcert = request.subscriptionSslrootcert;
  if (request.subscriptionSslmode !== undefined)
    return { sslmode: request.subscriptionSslmode, ...(rootcert ? { sslrootcert: rootcert } : {}), ...channelBinding };
  if (rootcert !== undefined)
    return {
      sslmode: source.sslmode === 'verify-ca' && rootcert !== 'system' ? 'verify-ca' : 'verify-full',
      sslrootcert: rootcert,
      ...channelBinding,
    };
  if (source.sslmode === 'verify-ca' || source.sslmode === 'verify-full')
    return {
      sslmode: 'require',
      ...channelBinding,
      weakened:
        `the source connection verifies the server certificate (sslmode=${source.sslmode}), but the subscription ` +
        '(opened by the target server) only encrypts (sslmode=require): its CA file is not on the target server',
    };
  return { sslmode: source.sslmode, ...channelBinding };
}
