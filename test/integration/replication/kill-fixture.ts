/** The kill test's database: big enough that its copy takes a few seconds. */
export const KILL_SCHEMA =
  'CREATE TABLE big (id bigint PRIMARY KEY, pad text); CREATE TABLE small (id int PRIMARY KEY);';
export const KILL_DATA = `
  INSERT INTO big SELECT g, repeat(md5(g::text), 4) FROM generate_series(1, 600000) g;
  INSERT INTO small SELECT generate_series(1, 10);
`;
