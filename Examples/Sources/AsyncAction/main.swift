// A custom action on the app server whose handler awaits (here a simulated database):
// its loop keeps serving meanwhile, and answers still go out in request order.
import Conduit
import ConduitApp

/// Stands in for a database: answers after a short wait.
actor Inventory {
    private var stock = ["apples": 12, "pears": 0]

    func count(of item: String) async throws -> Int {
        try await Task.sleep(for: .milliseconds(50))
        return stock[item] ?? 0
    }
}

let inventory = Inventory()
var router = Router.tutorial()
router.register(action: "stock") { request, context in
    let item = request["value"]?.stringValue ?? ""
    let count = try await inventory.count(of: item)
    return .string("\(count) \(item) (asked by \(context.peer?.description ?? "?"))")
}

let loops = try EventLoopGroup(threads: 1)
let server = try await AppServer.start(group: loops, address: .loopback(port: 0), router: router)
let client = try await AsyncConnection.connect(to: server.address, on: loops.next())
for item in ["apples", "pears"] {
    let frame = try await client.request(AppRequest.json(action: "stock", value: .string(item)), framing: AppFraming())
    print(try Response(frame: frame))
}
let search = try await client.request(AppRequest(action: "search", value: "morpheus").encoded(), framing: AppFraming())
print(try Response(frame: search))

await client.close()
await server.shutdownGracefully()
await loops.shutdown()
