import { describe, expect, it } from 'vitest';
import type { ConnectionSpec } from '../../../core/connection.js';
import {
  addTablesToPublicationSql,
  aivenCreatePublicationForAllTablesSql,
  aivenCreatePublicationSql,
  aivenCreateSubscriptionSql,
  aivenDropSubscriptionSql,
  commentOnPublicationSql,
  createPublicationForAllTablesSql,
  createPublicationSql,
  createReplicationSlotCommand,
  createSubscriptionSql,
  dropPublicationSql,
  dropSlotSql,
  dropSubscriptionSql,
  formatPublicationNote,
  parsePublicationNote,
  replicaIdentitySql,
  subscriptionConninfo,
} from '../../../core/steps/replication/sql.js';

const spec: ConnectionSpec = {
  host: 'db.example.com',
  port: 5433,
  user: "o'neil",
  password: "p'a\\ss w",
  database: 'postgres',
  sslmode: 'require',
};

describe('publication SQL', () => {
  it('creates an empty publication of every DML kind (TRUNCATE from PostgreSQL 11)', () => {
    expect(createPublicationSql('pg_migrate_shop_0123456789')).toBe(
      `CREATE PUBLICATION "pg_migrate_shop_0123456789" WITH (publish = 'insert, update, delete, truncate')`,
    );
    expect(createPublicationSql('p', 100023)).toBe(`CREATE PUBLICATION "p" WITH (publish = 'insert, update, delete')`);
    expect(createPublicationForAllTablesSql('p')).toBe(
      `CREATE PUBLICATION "p" FOR ALL TABLES WITH (publish = 'insert, update, delete, truncate')`,
    );
  });

  it('adds tables quoted, and nothing for an empty list', () => {
    expect(
      addTablesToPublicationSql('p', [
        { schema: 'public', name: 'orders' },
        { schema: 'My "Schema"', name: 'a.b' },
      ]),
    ).toBe('ALTER PUBLICATION "p" ADD TABLE "public"."orders", "My ""Schema"""."a.b"');
    expect(addTablesToPublicationSql('p', [])).toBeUndefined();
  });

  it('records and reads back the replica identity note, also for names with quotes', () => {
    const note = { replicaIdentityFull: [{ schema: 'public', name: "it's" }] };
    expect(commentOnPublicationSql('p', note)).toBe(
      `COMMENT ON PUBLICATION "p" IS 'pg-migrate {"replicaIdentityFull":[["public","it''s"]]}'`,
    );
    expect(parsePublicationNote(formatPublicationNote(note))).toEqual(note);
  });

  it('reads a foreign or broken comment as an empty note', () => {
    expect(parsePublicationNote(null)).toEqual({ replicaIdentityFull: [] });
    expect(parsePublicationNote('made by hand')).toEqual({ replicaIdentityFull: [] });
    expect(parsePublicationNote('pg-migrate {broken')).toEqual({ replicaIdentityFull: [] });
  });

  it('drops idempotently and changes replica identity', () => {
    expect(dropPublicationSql('p')).toBe('DROP PUBLICATION IF EXISTS "p"');
    expect(replicaIdentitySql({ schema: 's', name: 't' }, 'FULL')).toBe('ALTER TABLE "s"."t" REPLICA IDENTITY FULL');
    expect(replicaIdentitySql({ schema: 's', name: 't' }, 'DEFAULT')).toBe(
      'ALTER TABLE "s"."t" REPLICA IDENTITY DEFAULT',
    );
  });
});

describe('slot commands', () => {
  it('uses the option-list syntax on 15 and the keyword syntax on 14', () => {
    expect(createReplicationSlotCommand('pg_migrate_a_0123456789', 150004)).toBe(
      "CREATE_REPLICATION_SLOT pg_migrate_a_0123456789 LOGICAL pgoutput (SNAPSHOT 'export')",
    );
    expect(createReplicationSlotCommand('pg_migrate_a_0123456789', 140011)).toBe(
      'CREATE_REPLICATION_SLOT pg_migrate_a_0123456789 LOGICAL pgoutput EXPORT_SNAPSHOT',
    );
  });

  it('fails when the slot name is not a plain identifier', () => {
    expect(() => createReplicationSlotCommand('bad"name', 150000)).toThrow(/invalid slot name/);
  });

  it('drops only an inactive slot, by parameter', () => {
    expect(dropSlotSql('s')).toEqual({
      text: 'SELECT pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots WHERE slot_name = $1 AND NOT active',
      values: ['s'],
    });
  });
});

describe('subscription SQL', () => {
  const conninfo = subscriptionConninfo(spec, 'shop "eu"', { sslmode: 'require' });

  it('builds a libpq conninfo with every value quoted and escaped', () => {
    expect(conninfo).toBe(
      "host='db.example.com' port='5433' user='o\\'neil' dbname='shop \"eu\"' sslmode='require' " +
        "application_name='pg-migrate-subscription' password='p\\'a\\\\ss w'",
    );
  });

  it('carries the subscription TLS settings and another login, never a local file of the source spec', () => {
    const withCa = subscriptionConninfo(
      { ...spec, sslrootcert: '/home/me/ca.pem' },
      'shop',
      { sslmode: 'verify-full', sslrootcert: 'system', channelBinding: 'require' },
      { user: 'pg_migrate_sub_x', password: 'r4nd' },
    );
    expect(withCa).toBe(
      "host='db.example.com' port='5433' user='pg_migrate_sub_x' dbname='shop' sslmode='verify-full' " +
        "application_name='pg-migrate-subscription' sslrootcert='system' channel_binding='require' password='r4nd'",
    );
    expect(withCa).not.toContain('/home/me');
  });

  it('subscribes from the existing slot, with or without the initial copy', () => {
    const sql = createSubscriptionSql({
      subscription: 'pg_migrate_s',
      publication: 'pg_migrate_s',
      slot: 'pg_migrate_s',
      conninfo: "host='h' password='x'",
      copyData: false,
    });
    expect(sql).toBe(
      `CREATE SUBSCRIPTION "pg_migrate_s" CONNECTION 'host=''h'' password=''x''' PUBLICATION "pg_migrate_s" ` +
        "WITH (create_slot = false, slot_name = 'pg_migrate_s', copy_data = false, enabled = true)",
    );
  });

  it('drops the subscription without reaching the source', () => {
    expect(dropSubscriptionSql('pg_migrate_s')).toEqual([
      'ALTER SUBSCRIPTION "pg_migrate_s" DISABLE',
      'ALTER SUBSCRIPTION "pg_migrate_s" SET (slot_name = NONE)',
      'DROP SUBSCRIPTION IF EXISTS "pg_migrate_s"',
    ]);
  });
});

describe('aiven_extras SQL', () => {
  it('creates publications through the extension, tables as quoted identifiers', () => {
    expect(aivenCreatePublicationSql('p', [{ schema: 'public', name: 'Order Items' }])).toEqual({
      text: 'SELECT aiven_extras.pg_create_publication($1, $2, VARIADIC $3::pg_catalog.text[])',
      values: ['p', 'insert,update,delete,truncate', ['"public"."Order Items"']],
    });
    expect(aivenCreatePublicationSql('p')).toEqual({
      text: 'SELECT aiven_extras.pg_create_publication($1, $2, VARIADIC $3::pg_catalog.text[])',
      values: ['p', 'insert,update,delete,truncate', []],
    });
    expect(aivenCreatePublicationForAllTablesSql('p')).toEqual({
      text: 'SELECT aiven_extras.pg_create_publication_for_all_tables($1, $2)',
      values: ['p', 'insert,update,delete,truncate'],
    });
  });

  it('creates the subscription with named arguments and the conninfo as a parameter, never in the text', () => {
    const command = aivenCreateSubscriptionSql({
      subscription: 'pg_migrate_s',
      publication: 'pg_migrate_p',
      slot: 'pg_migrate_slot',
      conninfo: "host='h' password='secret'",
      copyData: true,
      createSlot: true,
    });
    expect(command.text).toBe(
      'SELECT aiven_extras.pg_create_subscription(arg_subscription_name => $1, arg_connection_string => $2, ' +
        'arg_publication_name => $3, arg_slot_name => $4, arg_slot_create => $5, arg_copy_data => $6)',
    );
    expect(command.text).not.toContain('secret');
    expect(command.values).toEqual([
      'pg_migrate_s',
      "host='h' password='secret'",
      'pg_migrate_p',
      'pg_migrate_slot',
      true,
      true,
    ]);
    expect(aivenDropSubscriptionSql('pg_migrate_s')).toEqual({
      text: 'SELECT aiven_extras.pg_drop_subscription($1)',
      values: ['pg_migrate_s'],
    });
  });
});
