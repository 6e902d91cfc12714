import { describe, expect, it } from 'vitest';
import {
  alterOwnerSql,
  type OwnedObject,
  ownerDrift,
  privilegeDrift,
  privilegeSql,
} from '../../core/steps/ownership.js';
import { commentOutDefaultAcls, decideOwnership } from '../../core/steps/schema.js';

const table = (owner: string, acl: OwnedObject['acl'] = null): OwnedObject => ({
  type: 'table',
  identity: 'public."Orders"',
  owner,
  keyword: null,
  acl,
});

describe('decideOwnership', () => {
  it('keeps owners and grants when every owner is settable and every grantee exists', () => {
    expect(
      decideOwnership({ owners: ['app'], grantees: ['reader'], present: ['app', 'reader'], settable: ['app'] }),
    ).toEqual({ noOwner: false, noPrivileges: false, unsettableOwners: [], missingGrantees: [], reasons: [] });
  });

  it('restores without owners when an owner is missing or not settable, and says which', () => {
    const mode = decideOwnership({
      owners: ['app', 'postgres', 'gone'],
      grantees: ['reader', 'lost'],
      present: ['app', 'postgres', 'reader'],
      settable: ['app'],
    });
    expect(mode.noOwner).toBe(true);
    expect(mode.noPrivileges).toBe(true);
    expect(mode.unsettableOwners).toEqual(['gone', 'postgres']);
    expect(mode.missingGrantees).toEqual(['lost']);
    expect(mode.reasons).toEqual([
      'owner role(s) missing on the target: gone',
      'the target user may not SET ROLE to owner role(s): postgres',
      'grantee role(s) missing on the target: lost',
    ]);
  });
});

describe('ownership SQL', () => {
  it('builds ALTER … OWNER TO for each kind, quoting the role', () => {
    expect(alterOwnerSql(table('x'), 'app "owner"')).toBe('ALTER TABLE public."Orders" OWNER TO "app ""owner"""');
    expect(alterOwnerSql({ type: 'type', identity: 's.d', keyword: 'DOMAIN' }, 'a')).toBe(
      'ALTER DOMAIN s.d OWNER TO "a"',
    );
    expect(alterOwnerSql({ type: 'composite type', identity: 's.c', keyword: null }, 'a')).toBe(
      'ALTER TYPE s.c OWNER TO "a"',
    );
    expect(alterOwnerSql({ type: 'operator class', identity: 's.oc USING btree', keyword: null }, 'a')).toBe(
      'ALTER OPERATOR CLASS s.oc USING btree OWNER TO "a"',
    );
    expect(alterOwnerSql({ type: 'statistics object', identity: 's.st', keyword: null }, 'a')).toBe(
      'ALTER STATISTICS s.st OWNER TO "a"',
    );
    expect(alterOwnerSql({ type: 'foreign-data wrapper', identity: 'w', keyword: null }, 'a')).toBe(
      'ALTER FOREIGN DATA WRAPPER w OWNER TO "a"',
    );
    expect(alterOwnerSql({ type: 'large object', identity: '4242', keyword: null }, 'a')).toBe(
      'ALTER LARGE OBJECT 4242 OWNER TO "a"',
    );
  });

  it('builds GRANT and REVOKE for objects, columns and PUBLIC', () => {
    expect(privilegeSql('GRANT', table('x'), ['reader', 'SELECT', true])).toBe(
      'GRANT SELECT ON TABLE public."Orders" TO "reader" WITH GRANT OPTION',
    );
    expect(
      privilegeSql('REVOKE', { type: 'function', identity: 's.f(integer)', keyword: null }, [null, 'EXECUTE', false]),
    ).toBe('REVOKE EXECUTE ON FUNCTION s.f(integer) FROM PUBLIC');
    expect(
      privilegeSql('GRANT', { type: 'table column', identity: 's.t', keyword: null, column: 'a"b' }, [
        'r',
        'UPDATE',
        false,
      ]),
    ).toBe('GRANT UPDATE ("a""b") ON TABLE s.t TO "r"');
    expect(privilegeSql('GRANT', { type: 'server', identity: 'srv', keyword: null }, ['r', 'USAGE', false])).toBe(
      'GRANT USAGE ON FOREIGN SERVER srv TO "r"',
    );
    expect(() =>
      privilegeSql('GRANT', { type: 'collation', identity: 'c', keyword: null }, ['r', 'USAGE', false]),
    ).toThrow();
  });
});

describe('drift', () => {
  it('finds the objects whose owner differs and ignores those missing on the target', () => {
    const other: OwnedObject = { ...table('app'), identity: 'public.gone' };
    expect(ownerDrift([table('app'), other], [table('avnadmin')])).toEqual([
      { object: table('avnadmin'), sourceOwner: 'app', targetOwner: 'avnadmin' },
    ]);
    expect(ownerDrift([table('app')], [table('app')])).toEqual([]);
  });

  it('grants what the target lacks and revokes what the source revoked, mapping the owner', () => {
    const fn = (owner: string, acl: OwnedObject['acl']): OwnedObject => ({
      type: 'function',
      identity: 's.f(integer)',
      owner,
      keyword: null,
      acl,
    });
    // The source revoked EXECUTE from PUBLIC and granted it to reader; the owner could not be kept.
    const drift = privilegeDrift(
      [
        fn('postgres', [
          ['postgres', 'EXECUTE', false],
          ['reader', 'EXECUTE', false],
        ]),
      ],
      [
        fn('avnadmin', [
          ['avnadmin', 'EXECUTE', false],
          [null, 'EXECUTE', false],
        ]),
      ],
    );
    expect(drift).toEqual([
      {
        object: fn('avnadmin', [
          ['avnadmin', 'EXECUTE', false],
          [null, 'EXECUTE', false],
        ]),
        grant: [['reader', 'EXECUTE', false]],
        revoke: [[null, 'EXECUTE', false]],
      },
    ]);
  });

  it('grants column privileges that the target lacks', () => {
    const column: OwnedObject = {
      type: 'table column',
      identity: 'public."Orders"',
      column: 'total',
      owner: 'app',
      keyword: null,
      acl: [['reader', 'SELECT', false]],
    };
    expect(privilegeDrift([column], [table('app', [['app', 'SELECT', false]])])).toEqual([
      { object: { ...column, acl: [] }, grant: [['reader', 'SELECT', false]], revoke: [] },
    ]);
  });
});

describe('commentOutDefaultAcls', () => {
  it('comments out the default privileges of the given roles only', () => {
    const toc = [
      '2075; 826 16441 DEFAULT ACL s DEFAULT PRIVILEGES FOR TABLES postgres',
      '2076; 826 16442 DEFAULT ACL - DEFAULT PRIVILEGES FOR FUNCTIONS app_owner',
      '3243; 2606 16396 CONSTRAINT s a a_pkey postgres',
    ].join('\n');
    const { toc: out, skipped } = commentOutDefaultAcls(toc, ['postgres']);
    expect(out.split('\n')).toEqual([
      ';2075; 826 16441 DEFAULT ACL s DEFAULT PRIVILEGES FOR TABLES postgres',
      '2076; 826 16442 DEFAULT ACL - DEFAULT PRIVILEGES FOR FUNCTIONS app_owner',
      '3243; 2606 16396 CONSTRAINT s a a_pkey postgres',
    ]);
    expect(skipped).toEqual(['s DEFAULT PRIVILEGES FOR TABLES postgres']);
    expect(commentOutDefaultAcls(toc, []).toc).toBe(toc);
  });
});
