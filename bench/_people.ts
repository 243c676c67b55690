import { prng } from './_shared.js';

// Generated clients of a Russian-speaking service business, as four sources write them:
// a spreadsheet (Cyrillic, local phone format), Stripe (Latin, E.164), mail (an address,
// sometimes a display name) and a CRM (Latin with typos). Hard cases on purpose: several
// romanizations of one name, typos, family members sharing one email address, and
// namesakes who are different people. The truth is the generated person.

const FIRST = [
  'Александр', 'Алексей', 'Андрей', 'Анна', 'Анастасия', 'Артём', 'Валентина', 'Василий', 'Виктор', 'Виктория', 'Владимир', 'Галина',
  'Дарья', 'Денис', 'Дмитрий', 'Евгений', 'Екатерина', 'Елена', 'Иван', 'Игорь', 'Ирина', 'Кирилл', 'Ксения', 'Максим', 'Мария',
  'Михаил', 'Наталья', 'Никита', 'Николай', 'Ольга', 'Павел', 'Полина', 'Роман', 'Светлана', 'Сергей', 'Татьяна', 'Фёдор', 'Юлия',
  'Юрий', 'Ярослав',
];
const ROOT = ['Петр', 'Иван', 'Смирн', 'Кузнец', 'Соколь', 'Попов', 'Лебед', 'Козл', 'Новик', 'Морозь', 'Волк', 'Соловь', 'Васильк', 'Зайц',
  'Павл', 'Семён', 'Голуб', 'Виногр', 'Богдан', 'Ворон', 'Федот', 'Михайл', 'Белоус', 'Тарас', 'Беляк', 'Комар', 'Орл', 'Киселёв', 'Макар',
  'Андре', 'Ковал', 'Ильин', 'Гусь', 'Титк', 'Кузьм', 'Кудрявц', 'Баран', 'Куликь', 'Алексе', 'Степан', 'Яковл', 'Сорок', 'Сергеь', 'Роман',
  'Захар', 'Борис', 'Королёв', 'Герасим', 'Пономар', 'Григор', 'Лазар', 'Медвед', 'Ершь', 'Никит', 'Соболь', 'Рябц', 'Поляк', 'Цвет',
  'Данил', 'Жук', 'Фролк', 'Журавл', 'Никол', 'Крыл', 'Максим', 'Сидор', 'Осип', 'Белк', 'Федос', 'Дорофе', 'Егор', 'Матве', 'Бобр',
  'Дмитри', 'Калин', 'Анисим', 'Петух', 'Антон', 'Тимоф', 'Никифор', 'Весел', 'Щерб', 'Шубк', 'Хомяк', 'Чернышь', 'Юдин', 'Щукин'];
const MIDDLE = ['', 'ар', 'ен', 'ик', 'ун', 'ал', 'ан', 'ер', 'ов', 'ин', 'ач', 'уш', 'ок', 'ат', 'ес', 'ил', 'от', 'ям'];
const SUFFIX = ['ов', 'ев', 'ин', 'ский', 'енко', 'ук', 'ых', 'ич'];
const DOMAINS = ['gmail.com', 'yandex.ru', 'mail.ru', 'outlook.com', 'bk.ru', 'inbox.ru'];

type Pick = <T>(list: readonly T[]) => T;

/** Romanizes with a random choice where real people disagree (й: y/i/j, х: kh/h, ю: yu/iu …). */
function romanize(text: string, random: () => number, pick: Pick): string {
  const variants: Record<string, string[]> = {
    а: ['a'], б: ['b'], в: ['v'], г: ['g'], д: ['d'], е: ['e'], ё: ['e', 'yo'], ж: ['zh'], з: ['z'], и: ['i'], й: ['y', 'i', 'j'], к: ['k'],
    л: ['l'], м: ['m'], н: ['n'], о: ['o'], п: ['p'], р: ['r'], с: ['s'], т: ['t'], у: ['u'], ф: ['f'], х: ['kh', 'h'], ц: ['ts', 'c'],
    ч: ['ch'], ш: ['sh'], щ: ['shch', 'sch'], ъ: [''], ы: ['y'], ь: ['', "'"], э: ['e'], ю: ['yu', 'iu'], я: ['ya', 'ia'],
  };
  let out = '';
  for (const char of text) {
    const lower = char.toLowerCase();
    const latin = variants[lower] ? pick(variants[lower]) : lower;
    out += char !== lower && latin ? latin[0].toUpperCase() + latin.slice(1) : latin;
  }
  void random;
  return out;
}

function typo(text: string, random: () => number): string {
  if (text.length < 4) return text;
  const at = 1 + Math.floor(random() * (text.length - 2));
  const kind = random();
  if (kind < 0.4) return text.slice(0, at) + text.slice(at + 1); // dropped letter
  if (kind < 0.7) return text.slice(0, at) + text[at + 1] + text[at] + text.slice(at + 2); // swapped letters
  return text.slice(0, at) + text[at] + text.slice(at); // doubled letter
}

export interface Person {
  id: number;
  first: string;
  last: string;
  phone: string; // 10 national digits, e.g. 9161234567
  email: string;
}

export interface SourceRow {
  person: number;
  source: 'sheet' | 'stripe' | 'mail' | 'crm';
  name: string;
  phone: string;
  email: string;
}

export function generatePeople(count: number, seed = 7): { people: Person[]; rows: () => Generator<SourceRow> } {
  const random = prng(seed);
  const pick: Pick = (list) => list[Math.floor(random() * list.length)];
  const people: Person[] = [];
  for (let id = 0; id < count; id++) {
    const namesake = id > 0 && random() < 0.02 ? people[Math.floor(random() * id)] : undefined;
    const first = namesake?.first ?? pick(FIRST);
    const last = namesake?.last ?? `${pick(ROOT)}${pick(MIDDLE)}${pick(SUFFIX)}`.replace(/ь/g, '');
    const phone = `9${String(Math.floor(random() * 1e9)).padStart(9, '0')}`;
    const family = id > 0 && random() < 0.03 ? people[Math.floor(random() * id)] : undefined;
    const email = family ? family.email : `${romanize(first, random, pick).toLowerCase().replace(/'/g, '')}.${romanize(last, random, pick).toLowerCase().replace(/'/g, '')}${id}@${pick(DOMAINS)}`;
    people.push({ id, first, last, phone, email });
  }
  return {
    people,
    rows: function* () {
      const rowRandom = prng(seed + 1);
      const rowPick: Pick = (list) => list[Math.floor(rowRandom() * list.length)];
      for (const person of people) {
        const sources = (['sheet', 'stripe', 'mail', 'crm'] as const).filter(() => rowRandom() < 0.75);
        if (sources.length === 0) sources.push('stripe');
        for (const source of sources) {
          const p = person.phone;
          if (source === 'sheet') {
            const name = rowRandom() < 0.3 ? `${person.last} ${person.first}` : `${person.first} ${person.last}`;
            yield { person: person.id, source, name, phone: `8 ${p.slice(0, 3)} ${p.slice(3, 6)}-${p.slice(6, 8)}-${p.slice(8)}`, email: '' };
          } else if (source === 'stripe') {
            yield { person: person.id, source, name: `${romanize(person.first, rowRandom, rowPick)} ${romanize(person.last, rowRandom, rowPick)}`, phone: `+7${p}`, email: person.email };
          } else if (source === 'mail') {
            yield { person: person.id, source, name: rowRandom() < 0.4 ? `${romanize(person.first, rowRandom, rowPick)} ${romanize(person.last, rowRandom, rowPick)}` : '', phone: '', email: person.email };
          } else {
            let name = `${romanize(person.first, rowRandom, rowPick)} ${romanize(person.last, rowRandom, rowPick)}`;
            if (rowRandom() < 0.2) name = typo(name, rowRandom);
            yield { person: person.id, source, name, phone: rowRandom() < 0.6 ? `(${p.slice(0, 3)}) ${p.slice(3, 6)} ${p.slice(6, 8)} ${p.slice(8)}` : '', email: rowRandom() < 0.3 ? person.email : '' };
          }
        }
      }
    },
  };
}
