"""page.py — end-to-end test of the search page of `trawl serve` in headless
Chromium (python3-selenium with chromium-driver).

The page is driven like a person would: type a query (search as you type),
wait for the results, and compare what is shown — the total, the ids of the
hits in order, the <mark> highlights — with `trawl search --json` on the same
index (the oracle). Then the next page, a syntax error, keyboard use ('/'
focuses the box, Enter searches), the link to a stored document, and a
phone-sized window (no horizontal scrolling). Then, against the JSON API as
the oracle (the same request the page makes): the facet lists of tags and
source show the API's values and counts, clicking a value (with the keyboard)
narrows the total and hits to the API's answer for the filtered query,
filters stack and are removable, the chart has one bar per histogram bucket
with the bucket's matches and a title, sort "newest" shows the API's
date:desc order (dates non-increasing by the sample file); on an index whose
tags hold '"' and '\\' a facet click filters to exactly that document, and
without a date field the sort and the chart are hidden. Screenshots go to
$TRAWL_BUILD_DIR/serve-page/*.png. Skips (77) when no browser is available."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from util import BUILD, Server, build_index, check, fail, finish, oracle_search, rmtree, scratch  # noqa

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:
    print("SKIP: python3-selenium is not installed (tools/setup.sh installs it)")
    sys.exit(77)
browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
driver_bin = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver")
                                              else None)
if not browser or not driver_bin:
    print("SKIP: chromium and chromium-driver are needed (tools/setup.sh installs them)")
    sys.exit(77)

T = scratch()
idx = os.path.join(T, "trends")
import json  # noqa: E402
with open(os.path.join(os.environ["TRAWL_SOURCE_DIR"], "sample", "trends.jsonl"), encoding="utf-8") as f:
    docs = [json.loads(line) for line in f if line.strip()]
build_index(idx, docs)
date_of = {d["id"]: d["date"] for d in docs}
# Keyword values needing escapes in a filter, and no date field.
odd = os.path.join(T, "odd")
ODD = [{"id": "q1", "title": "Quoted", "body": "alpha one", "tags": ['say "hi"', "plain"]},
       {"id": "b1", "title": "Backslash", "body": "alpha two", "tags": ["C:\\Temp", "plain"]},
       {"id": "p1", "title": "Plain", "body": "alpha three", "tags": ["plain"]}]
build_index(odd, ODD)
shots = os.path.join(BUILD, "serve-page")
os.makedirs(shots, exist_ok=True)

srv = Server(["--quiet", "trends=" + idx, "odd=" + odd])
opts = webdriver.ChromeOptions()
opts.binary_location = browser
for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1200,900"):
    opts.add_argument(a)
try:
    drv = webdriver.Chrome(service=Service(driver_bin), options=opts)
except Exception as e:  # a browser that cannot start here is a skip, not a failure
    srv.stop()
    srv.close()
    print("SKIP: headless Chromium does not start: %s" % str(e).splitlines()[0])
    sys.exit(77)
try:
    wait = WebDriverWait(drv, 20)
    base = "http://127.0.0.1:%d/" % srv.port
    drv.get(base)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#index option"))
    check(drv.find_element(By.CSS_SELECTOR, "#index option").text == "trends (%d)" % len(docs), "index list")
    wait.until(lambda d: d.find_element(By.ID, "sort").is_displayed())  # the index's stats are in

    def shown():
        """(status text, ids shown, snippet HTML list) once a search has answered."""
        status = drv.find_element(By.ID, "status").text
        ids = [e.text for e in drv.find_elements(By.CSS_SELECTOR, "#hits li .id")]
        snippets = [e.get_attribute("innerHTML") for e in drv.find_elements(By.CSS_SELECTOR, "#hits li .snippet")]
        return status, ids, snippets

    def search_for(text, expect_total):
        box = drv.find_element(By.ID, "q")
        box.clear()
        box.send_keys(text)  # no Enter: search as you type
        wait.until(lambda d: d.find_element(By.ID, "status").text.startswith("%d result" % expect_total))

    ref = oracle_search(idx, "kubernetes")
    search_for("kubernetes", ref["total"])
    status, ids, snippets = shown()
    check(ids == [h["id"] for h in ref["hits"]], "hits shown %s, oracle %s" % (ids, [h["id"] for h in ref["hits"]]))
    marks = [m.text.lower() for m in drv.find_elements(By.CSS_SELECTOR, "#hits mark")]
    check(marks and all(m.startswith("kubernetes") for m in marks), "highlights: %s" % marks[:5])
    check(snippets == [h["snippet"] for h in ref["hits"]], "snippets differ from the oracle")
    check(" ms" in status, "time not shown: %r" % status)
    drv.save_screenshot(os.path.join(shots, "desktop.png"))

    # Paging: an OR query with more than one page.
    ref = oracle_search(idx, "data OR cloud OR model", 10)
    ref2 = oracle_search(idx, "data OR cloud OR model", 10, 10)
    check(ref["total"] > 10, "paging query has %d hits" % ref["total"])
    search_for("data OR cloud OR model", ref["total"])
    check(shown()[1] == [h["id"] for h in ref["hits"]], "page 1 differs from the oracle")
    drv.find_element(By.ID, "next").click()
    wait.until(lambda d: d.find_element(By.ID, "page").text.startswith("Page 2"))
    wait.until(lambda d: shown()[1] == [h["id"] for h in ref2["hits"]])
    drv.find_element(By.ID, "prev").click()
    wait.until(lambda d: d.find_element(By.ID, "page").text.startswith("Page 1"))

    # A syntax error is shown as such.
    box = drv.find_element(By.ID, "q")
    box.clear()
    box.send_keys("(gpu")
    wait.until(lambda d: "error" in (d.find_element(By.ID, "status").get_attribute("class") or ""))
    check("never closed" in drv.find_element(By.ID, "status").text, "syntax error message")

    # Keyboard only: '/' focuses the box from elsewhere, Enter searches at once.
    drv.execute_script("document.activeElement.blur()")
    ActionChains(drv).send_keys("/").perform()
    check(drv.switch_to.active_element.get_attribute("id") == "q", "'/' did not focus the search box")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    ref = oracle_search(idx, "gpu")
    box.send_keys("gpu", Keys.ENTER)
    wait.until(lambda d: d.find_element(By.ID, "status").text.startswith("%d result" % ref["total"]))
    # Tab from the box reaches the index list, the sort, the button, then the first hit's link.
    ActionChains(drv).send_keys(Keys.TAB, Keys.TAB, Keys.TAB, Keys.TAB).perform()
    first = drv.switch_to.active_element
    href = first.get_attribute("href") or ""
    check(href == base + "indexes/trends/documents/" + ref["hits"][0]["id"], "link %s" % href)

    # Facets, filters, chart and sort against the JSON API (the page's own request).
    def api(text, filters=(), sort=None, facets=True, index="trends", histogram="date:month"):
        body = {"q": text, "limit": 10}
        if facets:
            body["facets"] = ["tags:10", "source:10"]
        if histogram:
            body["histogram"] = histogram
        if filters:
            body["filter"] = list(filters)
        if sort:
            body["sort"] = sort
        st, j, h = srv.json("POST", "/indexes/%s/search" % index, body)
        check(st == 200, "API search %r: %s %r" % (body, st, j))
        return j

    def facets_shown():
        out = {}
        for sec in drv.find_elements(By.CSS_SELECTOR, "#facets section.facet"):
            out[sec.get_attribute("data-field")] = [
                (b.find_element(By.CSS_SELECTOR, ".value").text, int(b.find_element(By.CSS_SELECTOR, ".count").text))
                for b in sec.find_elements(By.TAG_NAME, "button")]
        return out

    def facets_api(j):
        return {f["field"]: [(v["value"], v["count"]) for v in f["values"]] for f in j.get("facets", [])
                if f["type"] == "keyword" and f["values"]}

    def wait_for(j):
        """Waits until the page shows the answer j (total and hit ids)."""
        want = [h["id"] for h in j["hits"]]
        wait.until(lambda d: d.find_element(By.ID, "status").text.startswith("%d result" % j["total"]) and
                   shown()[1] == want)

    QF = "data OR cloud OR model"
    ref_f = api(QF)
    check(len(ref_f["histogram"]) > 3 and len(facets_api(ref_f)) == 2, "facet query: %r" % ref_f.get("facets"))
    search_for(QF, ref_f["total"])
    wait_for(ref_f)
    wait.until(lambda d: facets_shown() == facets_api(ref_f))
    bars = drv.find_elements(By.CSS_SELECTOR, "#chart svg rect")
    check(len(bars) == len(ref_f["histogram"]), "chart has %d bars, API %d buckets" % (len(bars), len(ref_f["histogram"])))
    check([(b.get_attribute("data-bucket"), int(b.get_attribute("data-matches"))) for b in bars] ==
          [(x["bucket"], x["matches"]) for x in ref_f["histogram"]], "bars differ from the API's buckets")
    heights = [float(b.get_attribute("height")) for b in bars]
    most = max(x["matches"] for x in ref_f["histogram"])
    check(all(abs(hh - 90.0 * x["matches"] / most) < 0.01 for hh, x in zip(heights, ref_f["histogram"])),
          "bar heights are not proportional to the matches: %s" % heights)
    titles = [t.get_attribute("textContent") for t in drv.find_elements(By.CSS_SELECTOR, "#chart svg g.bar > title")]
    check(len(titles) == len(bars) and all(t.startswith(x["bucket"] + ": %d match" % x["matches"])
                                           for t, x in zip(titles, ref_f["histogram"])), "bar titles: %s" % titles[:3])
    drv.execute_script("window.scrollTo(0, 0)")
    drv.save_screenshot(os.path.join(shots, "facets.png"))

    # Click (Enter on) the first tags value: the total narrows to the API's filtered total.
    tag, tag_n = facets_api(ref_f)["tags"][0]
    button = drv.find_element(By.CSS_SELECTOR, "#facets section[data-field=tags] button")
    button.send_keys(Keys.ENTER)
    f_tag = 'tags:="%s"' % tag.replace("\\", "\\\\").replace('"', '\\"')
    ref_t = api(QF, [f_tag])
    check(ref_t["total"] == tag_n, "API: total %d with the filter, facet count %d" % (ref_t["total"], tag_n))
    wait_for(ref_t)
    chips = drv.find_elements(By.CSS_SELECTOR, "#filters button")
    check(len(chips) == 1 and chips[0].get_attribute("data-value") == tag, "active filters: %s" % [c.text for c in chips])
    wait.until(lambda d: facets_shown() == facets_api(ref_t))
    check(len(drv.find_elements(By.CSS_SELECTOR, "#chart svg rect")) == len(ref_t["histogram"]), "filtered chart bars")
    # A second filter (source) stacks, ANDed.
    src, src_n = facets_api(ref_t)["source"][0]
    drv.find_element(By.CSS_SELECTOR, "#facets section[data-field=source] button").click()
    f_src = 'source:="%s"' % src.replace("\\", "\\\\").replace('"', '\\"')
    ref_ts = api(QF, [f_tag, f_src])
    check(ref_ts["total"] == src_n, "API: total %d with two filters, facet count %d" % (ref_ts["total"], src_n))
    wait_for(ref_ts)
    drv.execute_script("window.scrollTo(0, 0)")
    drv.save_screenshot(os.path.join(shots, "filters.png"))
    # Removing the tags filter leaves the source one.
    drv.find_element(By.CSS_SELECTOR, "#filters button").send_keys(Keys.ENTER)
    wait_for(api(QF, [f_src]))
    chips = drv.find_elements(By.CSS_SELECTOR, "#filters button")
    check([c.get_attribute("data-field") for c in chips] == ["source"], "filters after removing one")
    chips[0].click()
    wait_for(ref_f)
    check(not drv.find_element(By.ID, "filters").is_displayed(), "no filter left but the list is shown")

    # Sort newest: the API's date:desc order, dates non-increasing.
    Select(drv.find_element(By.ID, "sort")).select_by_value("desc")
    ref_d = api(QF, sort="date:desc")
    wait_for(ref_d)
    ids = shown()[1]
    check(all(date_of[a] >= date_of[b] for a, b in zip(ids, ids[1:])), "newest: dates %s" % [date_of[i] for i in ids])
    check(ids != [h["id"] for h in ref_f["hits"]], "sorting by date changed nothing")
    shown_dates = [e.text for e in drv.find_elements(By.CSS_SELECTOR, "#hits li .date")]
    check(shown_dates == [h["sort_value"][:10] for h in ref_d["hits"]], "dates shown: %s" % shown_dates)
    drv.execute_script("window.scrollTo(0, 0)")
    drv.save_screenshot(os.path.join(shots, "newest.png"))
    Select(drv.find_element(By.ID, "sort")).select_by_value("")
    wait_for(ref_f)

    # Values with '"' and '\\' are escaped in the filter; no date field: no sort, no chart.
    Select(drv.find_element(By.ID, "index")).select_by_value("odd")
    wait.until(lambda d: not d.find_element(By.ID, "sort").is_displayed())
    ref_o = api("alpha", index="odd", histogram=None)
    search_for("alpha", 3)
    wait_for(ref_o)
    wait.until(lambda d: facets_shown() == facets_api(ref_o))
    check(not drv.find_element(By.ID, "chart").is_displayed(), "a chart without a date field")
    for value, want_id in (('say "hi"', "q1"), ("C:\\Temp", "b1")):
        for b in drv.find_elements(By.CSS_SELECTOR, "#facets section[data-field=tags] button"):
            if b.find_element(By.CSS_SELECTOR, ".value").text == value:
                b.click()
                break
        else:
            fail("no facet button for %r" % value)
        wait.until(lambda d: d.find_element(By.ID, "status").text.startswith("1 result") and shown()[1] == [want_id])
        drv.find_element(By.CSS_SELECTOR, "#filters button").click()
        wait_for(ref_o)
    Select(drv.find_element(By.ID, "index")).select_by_value("trends")
    wait.until(lambda d: d.find_element(By.ID, "sort").is_displayed())
    search_for("gpu", ref["total"])

    # Phone width: no horizontal scrolling, results still there.
    drv.set_window_size(390, 844)
    overflow = drv.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
    check(overflow <= 0, "horizontal overflow of %s px on a phone-sized window" % overflow)
    drv.save_screenshot(os.path.join(shots, "phone.png"))

    # The link opens the stored document.
    drv.get(href)
    body = drv.find_element(By.TAG_NAME, "body").text
    check(json.loads(body)["id"] == ref["hits"][0]["id"], "document page: %s" % body[:100])
    print("screenshots in %s" % shots)
finally:
    drv.quit()
    srv.stop()
    srv.close()
    rmtree(T)
finish()
