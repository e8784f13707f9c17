// The table of commands, in the order `gatehouse help` lists them.
import type { Command } from '../command.ts';
import { clientsCreate, clientsDelete, clientsList } from './clients.ts';
import { keysRotate } from './keys.ts';
import { userCreate, userDisable, userEnable, userList, userResetMfa, userResetPassword } from './users.ts';

export const COMMANDS: readonly Command[] = [
  // Slot: migrate belongs to the migrations rework (commands/migrate.ts); it goes first.
  userCreate,
  userList,
  userDisable,
  userEnable,
  userResetPassword,
  userResetMfa,
  clientsCreate,
  clientsList,
  clientsDelete,
  keysRotate,
  // Slot: keys:list, from the key-storage rework (commands/keys.ts).
];
