/**
 * Who the share form starts with as the first creator (pure, tested): only a real person. A
 * configured default creator wins (it can carry an ORCID iD and an affiliation); else the Jupyter
 * identity's name when it is a person's name; else nobody, and the field shows a hint.
 *
 * jupyter-server gives every token-authenticated client that it cannot identify a random
 * identity (`IdentityProvider.generate_anonymous_user`): `username` is `uuid.uuid4().hex`
 * (32 hex digits) and `name` and `display_name` are "Anonymous <one of Jupiter's moons>". The
 * identity model carries no flag that says so, hence the check on both fields. JupyterHub's
 * single-user server sets only the hub's login (`name` equals `username`), which is not the
 * name a citation needs either.
 */
import type { ICreatorRow } from './shareForm';

/** The `defaultCreator` setting (schema/plugin.json). */
export interface IDefaultCreator {
  name?: string;
  orcid?: string;
  affiliation?: string;
}

/** The parts of a Jupyter identity (`/api/me`) the prefill reads. */
export interface IIdentityLike {
  username?: string;
  name?: string;
  display_name?: string;
}

/** The placeholder of the first creator's name when nothing real is known. */
export const CREATOR_HINT = 'Your name as it should appear in the citation';

const RANDOM_USERNAME = /^[0-9a-f]{32}$/;
const ANONYMOUS_NAME = /^Anonymous [A-Z][a-z]+$/;

/** Whether this is one of jupyter-server's random anonymous identities ("Anonymous Aoede"). */
export function isAnonymousIdentity(identity: IIdentityLike | null | undefined): boolean {
  if (!identity) {
    return false;
  }
  const name = (identity.name || identity.display_name || '').trim();
  return RANDOM_USERNAME.test(identity.username ?? '') && ANONYMOUS_NAME.test(name);
}

/** The identity's name if it names a person: not anonymous, not just the login name. */
export function realName(identity: IIdentityLike | null | undefined): string {
  if (!identity || isAnonymousIdentity(identity)) {
    return '';
  }
  const name = (identity.name || '').trim();
  return name && name !== (identity.username ?? '').trim() ? name : '';
}

/** The first creator row of a new share form. */
export function prefillCreator(
  identity: IIdentityLike | null | undefined,
  configured?: IDefaultCreator | null
): ICreatorRow {
  const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '');
  if (configured && text(configured.name)) {
    return {
      name: text(configured.name),
      orcid: text(configured.orcid),
      affiliation: text(configured.affiliation)
    };
  }
  return { name: realName(identity), orcid: '', affiliation: '' };
}
