import { describeMigration } from './migrate.js';

describeMigration(15);
