// The provider's own keystore builder: what its constructor runs on `jwks`, called again to swap keys live.
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  import type Provider from 'oidc-provider';

  export default function initializeKeystore(this: Provider, jwks: { keys: object[] }): void;
}
