import { describe, expect, it } from 'vitest';
import { piiPattern } from '../../src/anonymize/pii-gate.js';

const what = (column: string, type = 'text', table = 'public.orders') =>
  piiPattern(column, table, type)?.what;

describe('PII by column name', () => {
  it('finds the names real schemas use (Northwind, Pagila, Chinook-style), spaces and mixed case included', () => {
    for (const column of [
      'contact_name',
      'ship_name',
      'owner_name',
      'ContactName',
      'Contact Name',
      'ShipName',
      'first_name',
      'LastName',
    ])
      expect(what(column), column).toBe('a name');
    for (const column of ['ship_address', 'ShipAddress', 'Ship Address', 'address', 'address2'])
      expect(what(column), column).toBe('an address');
    for (const column of ['postal_code', 'ShipPostalCode', 'zip', 'postcode'])
      expect(what(column), column).toBe('a postal code');
    for (const column of ['username', 'login', 'UserName']) expect(what(column), column).toBe('a user name');
    expect(what('notes')).toMatch(/free text/);
    expect(what('Comment')).toMatch(/free text/);
    for (const column of ['photo', 'picture', 'avatar_url', 'PhotoPath'])
      expect(what(column, 'text'), column).toBe('a photo');
    expect(what('photo', 'bytea')).toBe('a photo');
    expect(what('ip_address', 'inet')).toBe('an IP address');
    expect(what('ip_addr', 'inet')).toBe('an IP address');
    expect(what('Email')).toBe('an e-mail address');
    expect(what('mobile_phone', 'int8')).toBe('a phone number'); // a phone number stored as a number is still one
  });

  it('does not flag keys, flags, counts and timestamps about PII', () => {
    expect(what('address_id', 'int4')).toBeUndefined();
    expect(what('address_id', 'uuid')).toBeUndefined();
    expect(what('customer_name_id', 'int4')).toBeUndefined();
    expect(what('email_verified', 'bool')).toBeUndefined();
    expect(what('email_sent_at', 'timestamptz')).toBeUndefined();
    expect(what('ship_address_count', 'int4')).toBeUndefined();
    expect(what('last_update', 'timestamp')).toBeUndefined();
    expect(what('name', 'text', 'public.products')).toBeUndefined();
    expect(what('title')).toBeUndefined();
  });
});
