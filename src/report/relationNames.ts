/**
 * Wikidata's English labels of the mLAMA relations (T-REx and GoogleRE), for reports that show relation ids.
 * A dataset's own relations.jsonl (LAMA's format: {"relation", "label"}) takes precedence where present.
 */
export const WIKIDATA_RELATION_NAMES: Readonly<Record<string, string>> = {
  P17: 'country',
  P19: 'place of birth',
  P20: 'place of death',
  P27: 'country of citizenship',
  P30: 'continent',
  P31: 'instance of',
  P36: 'capital',
  P37: 'official language',
  P39: 'position held',
  P47: 'shares border with',
  P101: 'field of work',
  P103: 'native language',
  P106: 'occupation',
  P108: 'employer',
  P127: 'owned by',
  P131: 'located in the administrative territorial entity',
  P136: 'genre',
  P138: 'named after',
  P140: 'religion',
  P159: 'headquarters location',
  P176: 'manufacturer',
  P178: 'developer',
  P190: 'twinned administrative body',
  P264: 'record label',
  P276: 'location',
  P279: 'subclass of',
  P361: 'part of',
  P364: 'original language of film or TV show',
  P407: 'language of work or name',
  P413: 'position played on team',
  P449: 'original broadcaster',
  P463: 'member of',
  P495: 'country of origin',
  P527: 'has part',
  P530: 'diplomatic relation',
  P569: 'date of birth',
  P570: 'date of death',
  P740: 'location of formation',
  P937: 'work location',
  P1001: 'applies to jurisdiction',
  P1303: 'instrument',
  P1376: 'capital of',
  P1412: 'languages spoken, written or signed',
};

export function relationName(names: Readonly<Record<string, string>>, id: string): string {
  return names[id] ?? WIKIDATA_RELATION_NAMES[id] ?? '';
}
