// The few parts of oidc-provider (which ships no types) that bench/contenders/oidc-provider.ts uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface Model {
    save(): Promise<string>;
  }
  interface GrantModel extends Model {
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
  }

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    Client: { find(id: string): Promise<unknown> };
    Grant: new (
      fields: Record<string, unknown>,
    ) => GrantModel;
    RefreshToken: new (
      fields: Record<string, unknown>,
    ) => Model;
  }

  export const errors: { InvalidTarget: new (description?: string) => Error };
}
