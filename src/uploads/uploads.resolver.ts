import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import { requireViewer, type RequestContext } from '../auth/context';
import { CreateUploadInput, Upload } from './upload.types';
import type { UploadsService } from './uploads.service';

@Resolver()
export class UploadsResolver {
  constructor(private readonly service: UploadsService) {}

  @Mutation(() => Upload, {
    description:
      'Where to PUT a file before sending it in a message or setting it as an avatar. Refused with BAD_USER_INPUT naming the limit when the size or type is not allowed; rate-limited per user.',
  })
  createUpload(@Ctx() ctx: RequestContext, @Arg('input', () => CreateUploadInput) input: CreateUploadInput): Promise<Upload> {
    return this.service.create(requireViewer(ctx), input);
  }
}
