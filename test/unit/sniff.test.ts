import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSample, detectDelimiter, detectEncoding, looksLikeHeader, readSample } from '../../src/connectors/csv/sniff.js';

// What a CSV file is, from its first bytes: encoding, delimiter, whether row one is a header.

const russianCsv = 'Имя;Телефон;Сумма;Статус\nАнна Петрова;+7 912 345-67-89;1 500,00;в работе\nИван Сидоров;8 800 555-35-35;200;готово\n';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hub-sniff-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('detectEncoding', () => {
  it('reads Cyrillic saved by Excel as windows-1251', () => {
    const bytes = iconv.encode(russianCsv, 'win1251');
    expect(detectEncoding(bytes)).toBe('windows-1251');
  });

  it('reads windows-1251 text that ends in the middle of a word as windows-1251', () => {
    const bytes = iconv.encode('Имя;Сумма\nАнна;100\nИван', 'win1251');
    expect(detectEncoding(bytes)).toBe('windows-1251');
  });

  it('reads Cyrillic in UTF-8 without a BOM as UTF-8', () => {
    expect(detectEncoding(Buffer.from(russianCsv, 'utf8'))).toBe('utf-8');
  });

  it('reads a UTF-8 BOM as UTF-8', () => {
    expect(detectEncoding(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(russianCsv, 'utf8')]))).toBe('utf-8');
  });

  it('reads a UTF-16LE BOM as UTF-16LE', () => {
    expect(detectEncoding(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Name,Email\n', 'utf16le')]))).toBe('utf-16le');
  });

  it('reads plain ASCII as UTF-8', () => {
    expect(detectEncoding(Buffer.from('Name,Email\nAnna,anna@example.com\n'))).toBe('utf-8');
  });

  it('reads an empty file as UTF-8', () => {
    expect(detectEncoding(Buffer.alloc(0))).toBe('utf-8');
  });

  it('reads UTF-8 Cyrillic as UTF-8 when the 64 KiB sample cuts a two-byte letter in half', () => {
    // 'a' then 'я' (D1 8F) repeated: byte 65536 is the second half of a letter, so the sample ends on a lone D1.
    const file = path.join(tmp, 'cut-2.csv');
    fs.writeFileSync(file, 'a' + 'я'.repeat(40_000), 'utf8');
    const sample = readSample(file);
    expect(sample.length).toBe(65536);
    expect(sample[sample.length - 1]).toBe(0xd1);
    expect(detectEncoding(sample)).toBe('utf-8');
  });

  it('reads UTF-8 as UTF-8 when the 64 KiB sample cuts a three-byte character after two bytes', () => {
    // '₽' is E2 82 BD: 21845 of them fill 65535 bytes, so the 64 KiB sample ends on the E2 of the next one.
    const file = path.join(tmp, 'cut-3.csv');
    fs.writeFileSync(file, '₽'.repeat(21_846), 'utf8');
    const sample = readSample(file);
    expect(sample.length).toBe(65536);
    expect(detectEncoding(sample.subarray(0, 65534))).toBe('utf-8'); // ends on E2 82
    expect(detectEncoding(sample)).toBe('utf-8'); // ends on E2
  });
});

describe('decodeSample', () => {
  it('decodes windows-1251 bytes to Cyrillic', () => {
    expect(decodeSample(iconv.encode('Имя;Сумма\n', 'win1251'), 'windows-1251')).toBe('Имя;Сумма\n');
  });

  it('drops a UTF-8 BOM', () => {
    expect(decodeSample(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Имя,Email\n', 'utf8')]), 'utf-8')).toBe('Имя,Email\n');
  });
});

describe('detectDelimiter', () => {
  it("finds ';' in a Russian Excel export whose amounts use a decimal comma", () => {
    expect(detectDelimiter(russianCsv)).toBe(';');
  });

  it("finds ';' when quoted fields contain commas", () => {
    const text = 'Name;Address;Amount\n"Smith, Anna";"Moscow, Lenina 1";1 234,50\n"Doe, John";"Kazan, Baumana 5";99,90\n';
    expect(detectDelimiter(text)).toBe(';');
  });

  it("finds ';' when a header cell has a comma in it ('Сумма, руб')", () => {
    const text = 'Имя;Сумма, руб;Статус\nАнна;1 500,00;в работе\nИван;200;готово\n';
    expect(detectDelimiter(text)).toBe(';');
  });

  it("finds ',' when quoted fields contain semicolons", () => {
    const text = 'Name,Note,Amount\n"Anna","call; after 6; not before",100\n"Ivan","a;b;c",200\n';
    expect(detectDelimiter(text)).toBe(',');
  });

  it("finds ',' when a quoted field runs over two lines", () => {
    const text = 'Name,Note\n"Anna","line one\nline two; still the note"\nIvan,short\n';
    expect(detectDelimiter(text)).toBe(',');
  });

  it('finds a tab when quoted fields contain commas and semicolons', () => {
    const text = 'Name\tNote\tAmount\nAnna\t"a, b; c"\t1,234.50\nIvan\t"x; y"\t12.00\n';
    expect(detectDelimiter(text)).toBe('\t');
  });

  it("finds '|'", () => {
    expect(detectDelimiter('Name|Amount\nAnna|1,5\nIvan|2,5\n')).toBe('|');
  });

  it("falls back to ',' for a file with one column", () => {
    expect(detectDelimiter('Email\nanna@example.com\nivan@example.com\n')).toBe(',');
  });

  it('handles Windows line endings', () => {
    expect(detectDelimiter('Имя;Телефон\r\nАнна;+7 912 345-67-89\r\nИван;8 800 555-35-35\r\n')).toBe(';');
  });
});

describe('looksLikeHeader', () => {
  it('takes a row of known Russian headers as a header', () => {
    expect(looksLikeHeader(['Имя', 'Телефон', 'Сумма', 'Статус'])).toBe(true);
  });

  it("takes a row with a known header ('E-mail') as a header, even with a blank cell", () => {
    expect(looksLikeHeader(['E-mail', '', 'Comment'])).toBe(true);
  });

  it('takes a row of distinct unknown labels as a header', () => {
    expect(looksLikeHeader(['Customer Ref', 'Notes', 'Budget'])).toBe(true);
  });

  it('takes a data row with a phone and an amount as data', () => {
    expect(looksLikeHeader(['Anna Petrova', '+7 912 345-67-89', '1 500,00'])).toBe(false);
  });

  it('takes a data row with an email as data', () => {
    expect(looksLikeHeader(['Anna Petrova', 'anna@example.com'])).toBe(false);
  });

  it('takes a row with an empty cell and no known header as data', () => {
    expect(looksLikeHeader(['Anna Petrova', '', 'Kitchen'])).toBe(false);
  });

  it('takes a row with a repeated cell and no known header as data', () => {
    expect(looksLikeHeader(['Moscow', 'Moscow'])).toBe(false);
  });
});
