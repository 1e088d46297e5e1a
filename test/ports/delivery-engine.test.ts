import { MemoryBroker, MemoryDeliveryEngine } from '../../src/delivery/delivery.memory';
import { deliveryEngineSuite } from './delivery-engine.suite';

deliveryEngineSuite('memory', async () => {
  const broker = new MemoryBroker();
  return { a: new MemoryDeliveryEngine(broker, 'a'), b: new MemoryDeliveryEngine(broker, 'b') };
});
