import type { Context } from '../context.ts';

/** The sign-in page's choices: a "Continue with …" link per provider, and whether passwords are on. */
export function signInChoices(
  ctx: Context,
  target: { interaction?: string | undefined; returnTo?: string | undefined },
): { providers: { name: string; href: string }[]; password: boolean } {
  return {
    providers: ctx.config.identityProviders.map((p) => ({ name: p.name, href: signInUrl(p.id, target) })),
    password: ctx.config.passwordSignIn,
  };
}

/** Where a "Continue with …" button goes, for an authorization interaction or a return path. */
export function signInUrl(
  provider: string,
  target: { interaction?: string | undefined; returnTo?: string | undefined },
): string {
  const query = target.interaction
    ? `?interaction=${encodeURIComponent(target.interaction)}`
    : target.returnTo
      ? `?return=${encodeURIComponent(target.returnTo)}`
      : '';
  return `/signin/${provider}${query}`;
}
