/// Google's list methods answer a page at a time: the items under the method's own key and a
/// `nextPageToken`, absent or empty on the last page. The one loop that follows them.
enum GooglePaging {
    /// Every item of a list call. `page` fetches the page a token names (nil: the first) and
    /// answers its items and its `nextPageToken`.
    static func all<Item>(_ page: (_ token: String?) async throws -> (items: [Item]?, next: String?)) async throws -> [Item] {
        var all: [Item] = []
        var token: String?
        repeat {
            let (items, next) = try await page(token)
            all += items ?? []
            token = next.flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return all
    }
}
