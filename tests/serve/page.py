"""page.py — end-to-end test of the search page of `trawl serve` in headless
Chromium (python3-selenium with chromium-driver).

The page is driven like a person would: type a query (search as you type),
wait for the results, and compare what is shown — the total, the ids of the
hits in order, the <mark> highlights — with `trawl search --json` on the same
index (the oracle). Then the next page, a syntax error, keyboard use ('/'
focuses the box, Enter searches), the link to a stored document, and a
phone-sized window (no horizontal scrolling). Screenshots go to
$TRAWL_BUILD_DIR/serve-page-*.png. Skips (77) when no browser is available."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from util import BUILD, Server, build_index, check, finish, oracle_search, rmtree, scratch  # noqa

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
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
shots = os.path.join(BUILD, "serve-page")
os.makedirs(shots, exist_ok=True)

srv = Server(["--quiet", "trends=" + idx])
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
    # Tab from the box reaches the index list, the button, then the first hit's link.
    ActionChains(drv).send_keys(Keys.TAB, Keys.TAB, Keys.TAB).perform()
    first = drv.switch_to.active_element
    href = first.get_attribute("href") or ""
    check(href == base + "indexes/trends/documents/" + ref["hits"][0]["id"], "link %s" % href)

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
