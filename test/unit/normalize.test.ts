import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import {
  companyDomain,
  FREE_MAIL_DOMAINS,
  jaroWinkler,
  levenshtein,
  nameKey,
  normalizeCode,
  normalizeDate,
  normalizeEmail,
  normalizeOrganizationName,
  normalizePhone,
  normalizeText,
  parsePersonName,
} from '../../src/core/reconcile/normalize.js';

// Normalization makes values comparable; it never decides that two records are one client.

describe('normalizeEmail', () => {
  it("reads 'ivan.petrov@gmail.com' and 'IvanPetrov+shop@googlemail.com' as one Gmail mailbox", () => {
    expect(normalizeEmail(' ivan.petrov@gmail.com ')).toBe('ivanpetrov@gmail.com');
    expect(normalizeEmail('IvanPetrov+shop@GoogleMail.com')).toBe('ivanpetrov@gmail.com');
  });

  it("maps the Yandex family to yandex.ru and reads '-' as '.' in the login", () => {
    expect(normalizeEmail('ivan-petrov@ya.ru')).toBe('ivan.petrov@yandex.ru');
    expect(normalizeEmail('Ivan.Petrov@yandex.by')).toBe('ivan.petrov@yandex.ru');
    expect(normalizeEmail('ivan.petrov+crm@yandex.com')).toBe('ivan.petrov@yandex.ru');
  });

  it('keeps dots and +tags for providers that do not define them', () => {
    expect(normalizeEmail(' Ivan.Petrov+Shop@Acme.COM ')).toBe('ivan.petrov+shop@acme.com');
    expect(normalizeEmail('ivan.petrov@mail.ru')).toBe('ivan.petrov@mail.ru');
  });

  it('refuses what is not an email', () => {
    for (const text of ['ivan.petrov', 'ivan petrov@acme.com', 'ivan@localhost', '@acme.com', 'ivan@acme.', 'ivan@.com', '', '+shop@gmail.com']) {
      expect(normalizeEmail(text), text).toBeUndefined();
    }
  });
});

describe('companyDomain', () => {
  it('gives the domain of a company address', () => {
    expect(companyDomain('Ivan.Petrov@Romashka.ru')).toBe('romashka.ru');
  });

  it('gives nothing for free-mail addresses, Russian and international', () => {
    for (const email of ['a@gmail.com', 'a@googlemail.com', 'a@mail.ru', 'a@bk.ru', 'a@yandex.kz', 'a@ya.ru', 'a@rambler.ru', 'a@outlook.com', 'a@icloud.com', 'a@proton.me', 'a@ukr.net', 'a@tut.by']) {
      expect(companyDomain(email), email).toBeUndefined();
    }
  });

  it('lists the common free-mail domains', () => {
    for (const domain of ['gmail.com', 'yahoo.com', 'hotmail.com', 'live.com', 'msn.com', 'me.com', 'inbox.ru', 'list.ru', 'internet.ru', 'protonmail.com', 'aol.com', 'gmx.de', 'web.de', 'qip.ru']) {
      expect(FREE_MAIL_DOMAINS.has(domain), domain).toBe(true);
    }
    expect(FREE_MAIL_DOMAINS.has('romashka.ru')).toBe(false);
  });
});

describe('normalizePhone', () => {
  it("reads '+7 916 123-45-67', '8 916 123-45-67' and '89161234567' as one Russian mobile", () => {
    for (const text of ['+7 916 123-45-67', '8 916 123-45-67', '89161234567', '8 (916) 123 45 67']) {
      expect(normalizePhone(text, 'RU'), text).toBe('+79161234567');
    }
  });

  it('reads Russian landlines written without the trunk prefix', () => {
    expect(normalizePhone('(4812)85-62-34', 'RU')).toBe('+74812856234');
    expect(normalizePhone('481-285-6234', 'RU')).toBe('+74812856234');
  });

  it('keeps international numbers whatever the default region', () => {
    expect(normalizePhone('+1 415 555 2671', 'RU')).toBe('+14155552671');
    expect(normalizePhone('(415) 555-2671', 'US')).toBe('+14155552671');
  });

  it("dials abroad through Russia's international prefix 8 10", () => {
    expect(normalizePhone('8 10 49 30 1234567', 'RU')).toBe('+49301234567');
  });

  it('agrees with libphonenumber on every +7 and +1 shape it reads without it', () => {
    let seed = 7;
    const digit = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return String(seed % 10);
    };
    for (let n = 0; n < 3000; n++) {
      let national = '';
      while (national.length < 10) national += digit();
      const shapes = [
        [`8${national}`, 'RU'], [national, 'RU'], [`8${national}`, 'KZ'], [national, 'KZ'], [`+7${national}`, 'US'],
        [`1${national}`, 'US'], [national, 'US'], [`1${national}`, 'CA'], [national, 'CA'], [`+1${national}`, 'RU'], [`+1${national}`, 'DE'],
      ] as const;
      for (const [dialable, region] of shapes) {
        const parsed = parsePhoneNumberFromString(dialable, region);
        expect(normalizePhone(dialable, region), `${dialable} in ${region}`).toBe(parsed?.isPossible() ? parsed.number : undefined);
      }
    }
  });

  it('keeps a possible number even where no operator has it yet', () => {
    expect(normalizePhone('+7 300 123 45 67', 'RU')).toBe('+73001234567');
  });

  it('refuses junk: too few digits, too many, letters', () => {
    for (const text of ['12345', '123-45', '+7 916 123 45 6', '+7 916 123 45 678', 'call 89161234567', 'n/a', '']) {
      expect(normalizePhone(text, 'RU'), text).toBeUndefined();
    }
  });
});

describe('normalizeText', () => {
  it("transliterates 'Иван Петров' to 'ivan petrov'", () => {
    expect(normalizeText('Иван Петров')).toBe('ivan petrov');
    expect(normalizeText('  IVAN   PETROV ')).toBe('ivan petrov');
  });

  it('strips diacritics and reads ё as е', () => {
    expect(normalizeText('Müller')).toBe('muller');
    expect(normalizeText('Фёдор')).toBe(normalizeText('Федор'));
    expect(normalizeText('François Øster Straße')).toBe('francois oster strasse');
  });

  it('transliterates Belarusian and Ukrainian letters with the same scheme', () => {
    expect(normalizeText('ВАСІЛЬЕЎ')).toBe(normalizeText('ВАСИЛЬЕВ'));
    expect(normalizeText('Їжак Євген Ґалаґан')).toBe('izhak ievgen galagan');
  });

  it('removes inner apostrophes and hyphens and turns other punctuation into single spaces', () => {
    expect(normalizeText("O'Neil")).toBe('oneil');
    expect(normalizeText('Петров-Водкин')).toBe('petrovvodkin');
    expect(normalizeText('Smith, John (CEO) — «Ромашка»!')).toBe('smith john ceo romashka');
    expect(normalizeText(" 'quoted' ")).toBe('quoted');
  });

  it('folds compatibility forms (NFKC) and decomposed letters', () => {
    expect(normalizeText('ＩＶＡＮ')).toBe('ivan');
    expect(normalizeText('Йошкар'.normalize('NFD'))).toBe('ioshkar');
  });

  it('keeps digits and letters of other scripts', () => {
    expect(normalizeText('Office 21')).toBe('office 21');
    expect(normalizeText('東京 Tokyo')).toBe('東京 tokyo');
  });
});

describe('nameKey', () => {
  const sameKey: string[][] = [
    ['Sergey', 'Sergei', 'Sergej', 'Сергей'],
    ['Aleksandr', 'Alexander', 'Александр', 'Аляксандр'],
    ['Vasiliev', 'Vasilyev', "Vasil'ev", 'Васильев', 'Васільеў'],
    ['Pavlovich', 'Паўлавіч', 'Павлович'],
    ['Petrov', 'Петров', 'Petroff'],
    ['Yuri', 'Iurii', 'Yury', 'Юрий'],
    ['Fyodor', 'Fedor', 'Фёдор'],
    ['Zhukov', 'Жуков', 'Žukov'],
    ['Khabarov', 'Habarov', 'Хабаров'],
    ['Tsvetkov', 'Cvetkov', 'Цветков'],
    ['Shchukin', 'Щукин'],
    ['Elena', 'Yelena', 'Jelena', 'Елена'],
    ['Natalia', 'Natalya', 'Наталья'],
    ['Dmitry', 'Dmitriy', 'Дмитрий'],
    ['Viktor', 'Victor', 'Виктор'],
    ['Tchaikovsky', 'Чайковский'],
  ];
  for (const names of sameKey) {
    it(`gives ${names.join(' / ')} one key`, () => {
      const keys = names.map(nameKey);
      expect(new Set(keys).size, keys.join(' ')).toBe(1);
    });
  }

  const differentKeys: [string, string][] = [
    ['Petrov', 'Popov'],
    ['Anna', 'Ivan'],
    ['Ivanov', 'Ivanenko'],
    ['Sergey', 'Sergeev'],
    ['Petrov', 'Petrova'],
    ['Aleksandr', 'Aleksandra'],
    ['Elena', 'Alena'],
    ['Mikhail', 'Maxim'],
  ];
  for (const [a, b] of differentKeys) {
    it(`keeps ${a} and ${b} apart`, () => {
      expect(nameKey(a)).not.toBe(nameKey(b));
    });
  }
});

describe('parsePersonName', () => {
  it('gives the Belarusian, Russian and English spellings of one person the same first and last name keys', () => {
    const spellings = [
      parsePersonName({ name: 'ВАСІЛЬЕЎ Аляксандр Паўлавіч' }),
      parsePersonName({ name: 'ВАСИЛЬЕВ Александр Павлович' }),
      parsePersonName({ name: 'Alexander Pavlovich Vasiliev' }),
    ];
    for (const person of spellings) {
      expect(nameKey(person.first!)).toBe(nameKey('Aleksandr'));
      expect(nameKey(person.middle!)).toBe(nameKey('Pavlovich'));
      expect(nameKey(person.last!)).toBe(nameKey('Vasiliev'));
    }
    expect(spellings[0]).toEqual({ first: 'aliaksandr', middle: 'pavlavich', last: 'vasilev', tokens: ['vasilev', 'aliaksandr', 'pavlavich'] });
  });

  it("reads 'Иван Петров' and 'Ivan Petrov' as first then last", () => {
    expect(parsePersonName({ name: 'Иван Петров' })).toEqual({ first: 'ivan', last: 'petrov', tokens: ['ivan', 'petrov'] });
    expect(parsePersonName({ name: 'Ivan Petrov' })).toEqual({ first: 'ivan', last: 'petrov', tokens: ['ivan', 'petrov'] });
  });

  it('keeps namesakes as namesakes: parsing gives equal names, deciding is the matcher’s job', () => {
    expect(parsePersonName({ name: 'Ivan Petrov' })).toEqual(parsePersonName({ name: 'IVAN  PETROV' }));
  });

  it("reads 'Last, First Middle'", () => {
    expect(parsePersonName({ name: 'Petrov, Ivan Ivanovich' })).toEqual({ first: 'ivan', middle: 'ivanovich', last: 'petrov', tokens: ['petrov', 'ivan', 'ivanovich'] });
  });

  it('finds the surname behind a patronymic when the surname itself ends in -vich', () => {
    expect(parsePersonName({ name: 'Роман Аркадьевич Абрамович' })).toMatchObject({ first: 'roman', middle: 'arkadevich', last: 'abramovich' });
    expect(parsePersonName({ name: 'Абрамович Роман Аркадьевич' })).toMatchObject({ first: 'roman', middle: 'arkadevich', last: 'abramovich' });
    expect(parsePersonName({ name: 'Иванова Мария Петровна' })).toMatchObject({ first: 'mariia', middle: 'petrovna', last: 'ivanova' });
  });

  it('takes the first token as first name and the last as last name when there are more', () => {
    expect(parsePersonName({ name: 'John Paul Fitzgerald Kennedy' })).toEqual({ first: 'john', middle: 'paul fitzgerald', last: 'kennedy', tokens: ['john', 'paul', 'fitzgerald', 'kennedy'] });
  });

  it('sets neither first nor last from a single token', () => {
    expect(parsePersonName({ name: 'Петров' })).toEqual({ tokens: ['petrov'] });
  });

  it('drops honorifics and suffixes, Russian and English', () => {
    expect(parsePersonName({ name: 'Dr. John Smith Jr.' })).toEqual({ first: 'john', last: 'smith', tokens: ['john', 'smith'] });
    expect(parsePersonName({ name: 'г-н Иван Петров' })).toEqual({ first: 'ivan', last: 'petrov', tokens: ['ivan', 'petrov'] });
    expect(parsePersonName({ name: 'Mrs Anna Smith III' })).toMatchObject({ first: 'anna', last: 'smith' });
  });

  it('lets first and last fields win over the full name', () => {
    expect(parsePersonName({ name: 'Petrov Ivan', first: 'Иван', last: 'Петров' })).toEqual({ first: 'ivan', middle: undefined, last: 'petrov', tokens: ['ivan', 'petrov'] });
  });

  it('fills a missing field from the full name, matching spellings by key', () => {
    expect(parsePersonName({ name: 'Alexander Petrov', first: 'Aleksandr' })).toMatchObject({ first: 'aleksandr', last: 'petrov' });
    expect(parsePersonName({ name: 'Ivan Petrov', last: 'Petrov' })).toMatchObject({ first: 'ivan', last: 'petrov' });
  });

  it('takes the patronymic from the full name when the fields have none', () => {
    expect(parsePersonName({ name: 'Петров Иван Иванович', first: 'Иван', last: 'Петров' })).toMatchObject({ first: 'ivan', middle: 'ivanovich', last: 'petrov' });
  });

  it('gives no names from empty input', () => {
    expect(parsePersonName({ name: null, first: '', last: undefined })).toEqual({ tokens: [] });
  });
});

describe('normalizeOrganizationName', () => {
  it("reads 'ООО «Ромашка»' and 'Romashka LLC' as 'romashka'", () => {
    expect(normalizeOrganizationName('ООО «Ромашка»')).toBe('romashka');
    expect(normalizeOrganizationName('Romashka LLC')).toBe('romashka');
  });

  it('drops Russian legal forms, abbreviated or spelled out', () => {
    for (const name of ['ПАО "Ромашка"', 'АО Ромашка', 'ЗАО «Ромашка»', 'OOO Romashka', 'Общество с ограниченной ответственностью «Ромашка»']) {
      expect(normalizeOrganizationName(name), name).toBe('romashka');
    }
    expect(normalizeOrganizationName('ИП Петров Иван Иванович')).toBe('petrov ivan ivanovich');
  });

  it('drops English and European legal forms, dotted or not, and "the"', () => {
    expect(normalizeOrganizationName('The Acme Corporation')).toBe('acme');
    expect(normalizeOrganizationName('Acme, Inc.')).toBe('acme');
    expect(normalizeOrganizationName('Acme L.L.C.')).toBe('acme');
    expect(normalizeOrganizationName('Acme Pty. Ltd.')).toBe('acme');
    expect(normalizeOrganizationName('Müller GmbH & Co. KG')).toBe('muller');
    expect(normalizeOrganizationName('Acme B.V.')).toBe('acme');
  });

  it('keeps names that are not legal forms, initials included', () => {
    expect(normalizeOrganizationName('J.P. Morgan')).toBe('j p morgan');
    expect(normalizeOrganizationName('Romashka Consulting')).toBe('romashka consulting');
  });
});

describe('jaroWinkler', () => {
  it('gives the textbook values', () => {
    expect(jaroWinkler('martha', 'marhta')).toBeCloseTo(0.961, 3);
    expect(jaroWinkler('dwayne', 'duane')).toBeCloseTo(0.84, 3);
    expect(jaroWinkler('dixon', 'dicksonx')).toBeCloseTo(0.813, 3);
  });

  it('gives 1 for equal strings and 0 when one is empty or nothing matches', () => {
    expect(jaroWinkler('ivan', 'ivan')).toBe(1);
    expect(jaroWinkler('', 'ivan')).toBe(0);
    expect(jaroWinkler('ivan', '')).toBe(0);
    expect(jaroWinkler('abc', 'xyz')).toBe(0);
  });

  it('is symmetric and handles long strings', () => {
    const long = 'obshchestvo s ogranichennoi otvetstvennostiu romashka'.repeat(3);
    expect(jaroWinkler(long, `${long}x`)).toBeGreaterThan(0.99);
    expect(jaroWinkler('vasilev', 'vasiliev')).toBeCloseTo(jaroWinkler('vasiliev', 'vasilev'), 12);
  });
});

describe('levenshtein', () => {
  it('counts edits', () => {
    expect(levenshtein('kitten', 'sitting', 5)).toBe(3);
    expect(levenshtein('vasilev', 'vasiliev', 3)).toBe(1);
    expect(levenshtein('', 'abc', 5)).toBe(3);
    expect(levenshtein('same', 'same', 0)).toBe(0);
  });

  it('stops early and answers max + 1 when the distance exceeds max', () => {
    expect(levenshtein('kitten', 'sitting', 2)).toBe(3);
    expect(levenshtein('petrov', 'ivanovskaya', 1)).toBe(2);
    expect(levenshtein('abcdef', 'uvwxyz', 2)).toBe(3);
  });
});

describe('normalizeDate', () => {
  it('reads ISO, compact and Russian dotted dates', () => {
    expect(normalizeDate('1985-03-07')).toBe('19850307');
    expect(normalizeDate('1985-03-07T10:00:00Z')).toBe('19850307');
    expect(normalizeDate('19850307')).toBe('19850307');
    expect(normalizeDate('07.03.1985')).toBe('19850307');
    expect(normalizeDate('7.3.1985')).toBe('19850307');
  });

  it('reads slashed dates as month/day unless the first part cannot be a month', () => {
    expect(normalizeDate('03/07/1985')).toBe('19850307');
    expect(normalizeDate('25/12/1985')).toBe('19851225');
    expect(normalizeDate('12/25/1985')).toBe('19851225');
  });

  it('refuses impossible dates and what it would have to guess', () => {
    for (const text of ['1985-02-30', '29.02.1985', '13/13/1985', '07.03.85', 'March 7, 1985', '0001-01-01', '']) {
      expect(normalizeDate(text), text).toBeUndefined();
    }
    expect(normalizeDate('29.02.2000')).toBe('20000229');
  });
});

describe('normalizeCode', () => {
  it('uppercases postcodes and drops spaces', () => {
    expect(normalizeCode(' sw1a 1aa ')).toBe('SW1A1AA');
    expect(normalizeCode('123 456')).toBe('123456');
  });

  it('keeps only the letters and digits of tax and national ids', () => {
    expect(normalizeCode('7707-083893')).toBe('7707083893');
    expect(normalizeCode('de 123.456.789')).toBe('DE123456789');
    expect(normalizeCode(' - ')).toBeUndefined();
  });
});

describe('hot path', () => {
  it('normalizes a million name tokens without timing out', () => {
    const names = ['Иван', 'Петров', 'Aleksandr', 'Васільеў', 'Sergey', 'Щукин', 'Müller', "O'Neil"];
    let length = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const token = `${names[i % names.length]}${i % 1000}`;
      length += normalizeText(token).length + nameKey(token).length;
    }
    expect(length).toBeGreaterThan(0);
  });
});
